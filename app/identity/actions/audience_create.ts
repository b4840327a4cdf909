import db from '@adonisjs/lucid/services/db'
import Audience from '#identity/models/audience'
import User from '#identity/models/user'
import { validateAudienceRules } from '#identity/services/audience_rules'
import { audienceAuditView, listChanges } from '#identity/services/audience_audit'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'

export interface AudienceAttributes {
  name: string
  description?: string | null
  /** A rule document; validated here whatever its source. */
  rules: unknown
}

export type AudienceWriteError = 'invalid_name' | 'invalid_rules'

/** Trims and checks the name and description; null when either is unusable. */
export function cleanAudienceText(attributes: AudienceAttributes) {
  const name = attributes.name.trim()
  const description = attributes.description?.trim() || null
  if (name.length === 0 || name.length > 120) return null
  if (description !== null && description.length > 500) return null
  return { name, description }
}

/** Creates an audience from validated rules, audited in the same transaction. */
export class CreateAudience {
  async handle(
    actor: AuditActor,
    attributes: AudienceAttributes
  ): Promise<Result<Audience, AudienceWriteError>> {
    const text = cleanAudienceText(attributes)
    if (!text) return fail('invalid_name')
    const validated = await validateAudienceRules(attributes.rules)
    if (!validated.ok) return validated

    const creator =
      actor.type === 'user' && actor.id ? await User.findBy('public_id', actor.id) : null
    const audience = await db.transaction(async (trx) => {
      const created = await Audience.create(
        { ...text, rules: validated.value, createdBy: creator?.id ?? null, archivedAt: null },
        { client: trx }
      )
      await recordAudit(
        actor,
        {
          action: 'identity.audience_created',
          subjectType: 'audience',
          subjectId: created.publicId,
          after: audienceAuditView(created),
          meta: listChanges(null, created.rules),
        },
        trx
      )
      return created
    })
    return ok(audience)
  }
}
