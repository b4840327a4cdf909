import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import Terminal from '#terminals/models/terminal'
import {
  DEFAULT_ENROLLMENT_HOURS,
  hashEnrollmentCode,
  newEnrollmentCode,
} from '#terminals/services/enrollment_codes'
import type { TerminalWithCode } from '#terminals/actions/create_terminal'

/**
 * A fresh one-time code for a terminal that is pending (the first code was
 * lost or expired) or active (a replaced device, a new key): enrolling with it
 * replaces the certificate, and the old one stops working at once.
 */
export async function newEnrollmentCodeFor(
  actor: AuditActor,
  publicId: string,
  hours = DEFAULT_ENROLLMENT_HOURS
): Promise<Result<TerminalWithCode, 'not_found' | 'terminal_revoked'>> {
  return db.transaction(async (trx) => {
    const terminal = await Terminal.query({ client: trx })
      .where('public_id', publicId)
      .forUpdate()
      .first()
    if (!terminal) return fail('not_found')
    if (terminal.status === 'revoked') return fail('terminal_revoked')
    const enrollmentCode = newEnrollmentCode()
    const expiresAt = DateTime.utc().plus({ hours })
    terminal.useTransaction(trx)
    terminal.enrollmentCodeHash = hashEnrollmentCode(enrollmentCode)
    terminal.enrollmentExpiresAt = expiresAt
    await terminal.save()
    await recordAudit(
      actor,
      {
        action: 'terminals.enrollment_code_issued',
        subjectType: 'terminal',
        subjectId: terminal.publicId,
        meta: { enrollmentExpiresAt: expiresAt.toISO() },
      },
      trx
    )
    return ok({ terminal, enrollmentCode, expiresAt })
  })
}
