import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import Terminal from '#terminals/models/terminal'
import { forgetTerminalCertificate } from '#terminals/services/terminal_auth'
import { terminalAuditView } from '#terminals/services/terminal_view'

/**
 * Revokes a terminal: a gateway in this process refuses its certificate
 * from the next request on, a gateway process elsewhere within
 * CERTIFICATE_CACHE_MS (2 s), and any enrollment code it still had stops
 * working. Final: a replacement is a new terminal.
 */
export async function revokeTerminal(
  actor: AuditActor,
  publicId: string,
  reason: string | null
): Promise<Result<Terminal, 'not_found' | 'already_revoked'>> {
  const result = await db.transaction(async (trx) => {
    const terminal = await Terminal.query({ client: trx })
      .where('public_id', publicId)
      .forUpdate()
      .first()
    if (!terminal) return fail('not_found')
    if (terminal.status === 'revoked') return fail('already_revoked')
    const before = terminalAuditView(terminal)
    terminal.useTransaction(trx)
    terminal.status = 'revoked'
    terminal.revokedAt = DateTime.utc()
    terminal.revokedReason = reason
    terminal.enrollmentCodeHash = null
    terminal.enrollmentExpiresAt = null
    await terminal.save()
    await recordAudit(
      actor,
      {
        action: 'terminals.revoked',
        subjectType: 'terminal',
        subjectId: terminal.publicId,
        before,
        after: terminalAuditView(terminal),
        meta: { reason },
      },
      trx
    )
    return ok(terminal)
  })
  if (result.ok) forgetTerminalCertificate(result.value.id)
  return result
}
