import db from '@adonisjs/lucid/services/db'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import CampusApp from '#app_center/models/campus_app'

export type SetAppEnabledError = 'not_found' | 'unchanged'

/**
 * Enables or disables an app. A disabled app leaves the service hall at
 * once; if it signs people in through Quad, its sign-ins end in
 * access_denied and its tokens stop working (the provider refuses the
 * client). Audited.
 */
export class SetAppEnabled {
  async handle(
    publicId: string,
    enabled: boolean,
    actor: AuditActor
  ): Promise<Result<CampusApp, SetAppEnabledError>> {
    return db.transaction(async (trx) => {
      const app = await CampusApp.query({ client: trx })
        .where('public_id', publicId.toUpperCase())
        .forUpdate()
        .first()
      if (!app) return fail('not_found')
      if (app.enabled === enabled) return fail('unchanged')
      app.useTransaction(trx)
      app.enabled = enabled
      await app.save()
      await recordAudit(
        actor,
        {
          action: enabled ? 'apps.enabled' : 'apps.disabled',
          subjectType: 'app',
          subjectId: app.publicId,
          before: { enabled: !enabled },
          after: { enabled },
        },
        trx
      )
      return ok(app)
    })
  }
}
