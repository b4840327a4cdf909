import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import CampusApp from '#app_center/models/campus_app'
import { clientSecretDigest, newClientSecret } from '#app_center/services/client_secrets'

export type RotateClientSecretError = 'not_found' | 'not_confidential'

export interface RotatedSecret {
  app: CampusApp
  /** The new secret: returned here once, stored only as a digest. */
  secret: string
}

/**
 * Replaces a confidential client's secret. The old secret stops working at
 * once, so the app's operator should have the new one ready to paste.
 * Tokens already issued stay valid until they expire. Audited, without the
 * secret.
 */
export class RotateClientSecret {
  async handle(
    publicId: string,
    actor: AuditActor
  ): Promise<Result<RotatedSecret, RotateClientSecretError>> {
    return db.transaction(async (trx) => {
      const app = await CampusApp.query({ client: trx })
        .where('public_id', publicId.toUpperCase())
        .forUpdate()
        .first()
      if (!app) return fail('not_found')
      if (!app.isOidcClient || app.publicClient) return fail('not_confidential')
      const secret = newClientSecret()
      app.useTransaction(trx)
      app.clientSecretHash = clientSecretDigest(secret)
      app.clientSecretRotatedAt = DateTime.utc()
      await app.save()
      await recordAudit(
        actor,
        {
          action: 'apps.credentials_rotated',
          subjectType: 'app',
          subjectId: app.publicId,
          meta: { clientId: app.oidcClientId },
        },
        trx
      )
      return ok({ app, secret })
    })
  }
}
