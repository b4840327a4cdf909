import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import { enqueue } from '#appliance/services/jobs'
import Audience from '#identity/models/audience'
import CardType from '#cards/models/card_type'
import CardIssuance, { type IssuanceTarget, type ListedPerson } from '#cards/models/card_issuance'
import { computeValidity, type ValidityError } from '#cards/services/validity'
import { issueCardsJob } from '#cards/services/card_jobs'
import { MAX_LISTED } from '#cards/services/person_lists'
import { schoolZone } from '#cards/services/school_zone'

export interface IssueCardsInput {
  /** Public id of the card type. */
  cardType: string
  target: IssuanceTarget
  /** Public id of the audience, for target "audience". */
  audience?: string | null
  /** Person numbers with their lines, for target "list". */
  list?: ListedPerson[] | null
  /** File name or "pasted", shown with the issuance. */
  sourceName?: string | null
  /** Start and end of temporary and visitor cards. */
  window?: { from: DateTime; until: DateTime } | null
}

export type IssueCardsError =
  | 'type_not_found'
  | 'type_disabled'
  | 'audience_not_found'
  | 'audience_archived'
  | 'list_empty'
  | 'list_too_long'
  | 'window_not_allowed'
  | ValidityError

/**
 * Queues a bulk issuance of one card type: to every eligible person, to a
 * list of person numbers, or to an audience (always within the type's
 * eligibility). The issuance row and its job are written together; the job
 * issues in batches, skips people who already hold a live card of the
 * type, and can run again safely. Returns the issuance's public id.
 */
export class IssueCards {
  async handle(
    input: IssueCardsInput,
    actor: AuditActor
  ): Promise<Result<string, IssueCardsError>> {
    const type = await CardType.findBy('public_id', input.cardType.toUpperCase())
    if (!type) return fail('type_not_found')
    if (!type.enabled) return fail('type_disabled')

    if (type.isTemporary) {
      // Checked now, so that a window that cannot work is refused on the form, not in the job.
      const validity = computeValidity(type.validity, {
        now: DateTime.utc(),
        zone: await schoolZone(),
        window: input.window ?? null,
      })
      if (!validity.ok) return validity
    } else if (input.window) {
      return fail('window_not_allowed')
    }

    let audience: Audience | null = null
    if (input.target === 'audience') {
      audience = input.audience
        ? await Audience.findBy('public_id', input.audience.toUpperCase())
        : null
      if (!audience) return fail('audience_not_found')
      if (audience.isArchived) return fail('audience_archived')
    }
    const list = input.target === 'list' ? (input.list ?? []) : null
    if (list && list.length === 0) return fail('list_empty')
    if (list && list.length > MAX_LISTED) return fail('list_too_long', { limit: MAX_LISTED })

    const publicId = await db.transaction(async (trx) => {
      const issuance = await CardIssuance.create(
        {
          cardTypeId: type.id,
          target: input.target,
          audienceId: audience?.id ?? null,
          targets: list,
          sourceName: input.sourceName?.slice(0, 255) ?? null,
          validFrom: type.isTemporary ? (input.window?.from.toUTC() ?? null) : null,
          validUntil: type.isTemporary ? (input.window?.until.toUTC() ?? null) : null,
          status: 'queued',
          totalCount: list?.length ?? 0,
          doneCount: 0,
          issuedCount: 0,
          skippedCount: 0,
          errorCount: 0,
          errors: [],
          actor,
        },
        { client: trx }
      )
      await enqueue(issueCardsJob, { issuanceId: issuance.publicId }, { trx, priority: 5 })
      await recordAudit(
        actor,
        {
          action: 'cards.issuance_queued',
          subjectType: 'card_issuance',
          subjectId: issuance.publicId,
          after: {
            type: type.code,
            target: input.target,
            audience: audience?.publicId ?? null,
            listed: list?.length ?? null,
            source: issuance.sourceName,
            validFrom: issuance.validFrom?.toISO() ?? null,
            validUntil: issuance.validUntil?.toISO() ?? null,
          },
        },
        trx
      )
      return issuance.publicId
    })
    return ok(publicId)
  }
}
