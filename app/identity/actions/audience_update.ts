import db from '@adonisjs/lucid/services/db'
import Audience from '#identity/models/audience'
import { validateAudienceRules } from '#identity/services/audience_rules'
import { audienceAuditView, listChanges } from '#identity/services/audience_audit'
import {
  cleanAudienceText,
  type AudienceAttributes,
  type AudienceWriteError,
} from '#identity/actions/audience_create'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'

export type UpdateAudienceError = AudienceWriteError | 'not_found' | 'archived'

/**
 * Changes an audience's name, description and rules. Archived audiences are
 * frozen: the records that used them must keep meaning what they meant.
 */
export class UpdateAudience {
  async handle(
    actor: AuditActor,
    publicId: string,
    attributes: AudienceAttributes
  ): Promise<Result<Audience, UpdateAudienceError>> {
    const text = cleanAudienceText(attributes)
    if (!text) return fail('invalid_name')
    const validated = await validateAudienceRules(attributes.rules)
    if (!validated.ok) return validated

    return db.transaction(async (trx) => {
      const audience = await Audience.query({ client: trx })
        .where('public_id', publicId)
        .forUpdate()
        .first()
      if (!audience) return fail('not_found')
      if (audience.isArchived) return fail('archived')
      const before = audienceAuditView(audience)
      const beforeRules = audience.rules
      audience.merge({ ...text, rules: validated.value })
      await audience.save()
      await recordAudit(
        actor,
        {
          action: 'identity.audience_updated',
          subjectType: 'audience',
          subjectId: audience.publicId,
          before,
          after: audienceAuditView(audience),
          meta: listChanges(beforeRules, audience.rules),
        },
        trx
      )
      return ok(audience)
    })
  }
}
