import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import Audience from '#identity/models/audience'
import { audienceAuditView } from '#identity/services/audience_audit'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'

export type ArchiveAudienceError = 'not_found' | 'already_archived'

/**
 * Archives an audience: it stays resolvable for what already refers to it
 * and can no longer be edited or chosen for anything new.
 */
export class ArchiveAudience {
  async handle(
    actor: AuditActor,
    publicId: string
  ): Promise<Result<Audience, ArchiveAudienceError>> {
    return db.transaction(async (trx) => {
      const audience = await Audience.query({ client: trx })
        .where('public_id', publicId)
        .forUpdate()
        .first()
      if (!audience) return fail('not_found')
      if (audience.isArchived) return fail('already_archived')
      const before = audienceAuditView(audience)
      audience.archivedAt = DateTime.utc()
      await audience.save()
      await recordAudit(
        actor,
        {
          action: 'identity.audience_archived',
          subjectType: 'audience',
          subjectId: audience.publicId,
          before,
          after: audienceAuditView(audience),
        },
        trx
      )
      return ok(audience)
    })
  }
}
