import db from '@adonisjs/lucid/services/db'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import Audience from '#identity/models/audience'
import type { IdentityType } from '#identity/models/person'
import CardType from '#cards/models/card_type'
import { isIdentityType } from '#cards/services/card_rules'
import { checkFace, type FaceError, type FaceInput } from '#cards/services/card_face'
import {
  checkValidityRule,
  type ValidityRuleError,
  type ValidityRuleInput,
} from '#cards/services/validity'
import type { OfflineLimits } from '#cards/campus_code/layout'
import {
  checkCodePolicy,
  DEFAULT_CODE_POLICY,
  type CodePolicyError,
} from '#cards/services/code_policy'
import {
  removeFaceImage,
  storeFaceImage,
  type FaceImageError,
  type FaceImageKind,
} from '#cards/services/face_images'

export interface CardTypeInput {
  code: string
  nameZh: string
  nameEn: string
  identityTypes: string[]
  /** Public id of an audience narrowing eligibility, or null. */
  audience: string | null
  validity: ValidityRuleInput
  face: Omit<FaceInput, 'background' | 'logo'>
  enabled: boolean
  sortOrder?: number
  /** Permission tags and offline limits of the type's codes; absent keeps them (or the default). */
  codePolicy?: { permissions: string[]; offline: OfflineLimits }
  /** Uploaded images (temporary paths); `null` removes the current one; absent keeps it. */
  images?: Partial<Record<FaceImageKind, { sourcePath: string } | null>>
}

export type CardTypeField =
  | 'code'
  | 'nameZh'
  | 'nameEn'
  | 'identityTypes'
  | 'audience'
  | 'validity'
  | 'face'
  | 'background'
  | 'logo'
  | 'codePolicy'

export type SaveCardTypeError =
  | 'not_found'
  | 'code_invalid'
  | 'code_taken'
  | 'code_locked'
  | 'name_required'
  | 'identity_type_invalid'
  | 'audience_not_found'
  | ValidityRuleError
  | CodePolicyError
  | FaceError
  | FaceImageError

const CODE = /^[a-z][a-z0-9_]{1,31}$/

function fieldFail(field: CardTypeField, error: SaveCardTypeError) {
  return fail(error, { field })
}

/**
 * Creates or edits a card type. The code is fixed once cards of the type
 * exist (imports and rules refer to it). Uploaded face images are checked
 * and stored before the transaction; a refusal removes them again, and
 * images that were replaced are deleted once the change is committed.
 */
export class SaveCardType {
  async handle(
    input: CardTypeInput,
    mode: { mode: 'create' } | { mode: 'update'; publicId: string },
    actor: AuditActor
  ): Promise<Result<CardType, SaveCardTypeError>> {
    const code = input.code?.trim().toLowerCase() ?? ''
    if (!CODE.test(code)) return fieldFail('code', 'code_invalid')
    const nameZh = input.nameZh?.trim() ?? ''
    const nameEn = input.nameEn?.trim() ?? ''
    if (!nameZh || nameZh.length > 64) return fieldFail('nameZh', 'name_required')
    if (!nameEn || nameEn.length > 64) return fieldFail('nameEn', 'name_required')
    if (!input.identityTypes.every(isIdentityType))
      return fieldFail('identityTypes', 'identity_type_invalid')
    const identityTypes = [...new Set(input.identityTypes)] as IdentityType[]
    const validity = checkValidityRule(input.validity)
    if (!validity.ok) return fieldFail('validity', validity.error)
    const face = checkFace(input.face)
    if (!face.ok) return fail(face.error, { field: 'face', ...face.details })
    const policy = input.codePolicy ? checkCodePolicy(input.codePolicy) : null
    if (policy && !policy.ok) return fieldFail('codePolicy', policy.error)

    let audienceId: number | null = null
    if (input.audience) {
      const audience = await Audience.findBy('public_id', input.audience.toUpperCase())
      if (!audience) return fieldFail('audience', 'audience_not_found')
      audienceId = audience.id
    }

    const stored: Partial<Record<FaceImageKind, string>> = {}
    for (const kind of ['background', 'logo'] as const) {
      const upload = input.images?.[kind]
      if (!upload) continue
      const result = await storeFaceImage(upload.sourcePath, kind)
      if (!result.ok) {
        await Promise.all(Object.values(stored).map((path) => removeFaceImage(path)))
        return fieldFail(kind, result.error)
      }
      stored[kind] = result.value
    }

    const outcome = await db.transaction(async (trx) => {
      const existing =
        mode.mode === 'update'
          ? await CardType.query({ client: trx })
              .where('public_id', mode.publicId.toUpperCase())
              .forUpdate()
              .first()
          : null
      if (mode.mode === 'update' && !existing) return fail('not_found' as const)
      const clash = await CardType.query({ client: trx })
        .where('code', code)
        .if(existing, (query) => query.whereNot('id', existing!.id))
        .first()
      if (clash) return fieldFail('code', 'code_taken')
      if (existing && existing.code !== code) {
        const used = await trx.from('cards').where('card_type_id', existing.id).first()
        if (used) return fieldFail('code', 'code_locked')
      }

      const type = existing ?? new CardType()
      type.useTransaction(trx)
      const before = existing ? describe(existing) : null
      const replaced: string[] = []
      const image = (kind: FaceImageKind) => {
        const current = existing?.face[kind] ?? null
        const wanted = input.images?.[kind]
        if (stored[kind]) {
          if (current) replaced.push(current)
          return stored[kind]!
        }
        if (wanted === null) {
          if (current) replaced.push(current)
          return null
        }
        return current
      }
      type.merge({
        code,
        nameZh,
        nameEn,
        identityTypes,
        audienceId,
        validity: validity.value,
        isTemporary: validity.value.kind === 'window',
        face: { ...face.value, background: image('background'), logo: image('logo') },
        codePolicy: policy?.value ?? existing?.codePolicy ?? DEFAULT_CODE_POLICY,
        enabled: input.enabled,
        sortOrder: input.sortOrder ?? existing?.sortOrder ?? 100,
      })
      await type.save()
      await recordAudit(
        actor,
        {
          action: existing ? 'cards.type_updated' : 'cards.type_created',
          subjectType: 'card_type',
          subjectId: type.publicId,
          before,
          after: describe(type),
        },
        trx
      )
      return ok({ type, replaced })
    })
    if (!outcome.ok) {
      await Promise.all(Object.values(stored).map((path) => removeFaceImage(path)))
      return outcome
    }
    await Promise.all(outcome.value.replaced.map((path) => removeFaceImage(path)))
    return ok(outcome.value.type)
  }
}

/** What the audit log keeps of a type. */
function describe(type: CardType) {
  return {
    code: type.code,
    nameZh: type.nameZh,
    nameEn: type.nameEn,
    identityTypes: type.identityTypes,
    audienceId: type.audienceId,
    validity: type.validity,
    face: type.face,
    codePolicy: type.codePolicy,
    enabled: type.enabled,
    isTemporary: type.isTemporary,
  }
}
