import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import { recordAudit } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import Terminal from '#terminals/models/terminal'
import {
  issueTerminalCertificate,
  issueTerminalPkcs12,
  parseCsr,
  type CsrError,
  type IssuedTerminalCertificate,
} from '#terminals/services/certificates'
import { hashEnrollmentCode } from '#terminals/services/enrollment_codes'
import { forgetTerminalCertificate } from '#terminals/services/terminal_auth'
import { terminalAuditView } from '#terminals/services/terminal_view'

export type EnrollInput =
  | { enrollmentCode: string; csr: string; address?: string | null }
  | { enrollmentCode: string; pkcs12Password: string; address?: string | null }

export type EnrollError = 'invalid_enrollment_code' | 'enrollment_code_expired' | CsrError

export interface Enrollment {
  terminal: Terminal
  certificate: IssuedTerminalCertificate
  /** Base64 PKCS#12 (key, certificate, CA) when asked for instead of a CSR. */
  pkcs12: string | null
}

/**
 * Exchanges a one-time enrollment code for a client certificate. The code
 * is consumed in the same transaction that stores the certificate's
 * fingerprint: a second use finds no code (invalid_enrollment_code), an
 * expired code is refused and stays unusable.
 */
export async function enrollTerminal(input: EnrollInput): Promise<Result<Enrollment, EnrollError>> {
  let publicKey = null
  if ('csr' in input) {
    const parsed = parseCsr(input.csr)
    if (!parsed.ok) return parsed
    publicKey = parsed.value
  }
  const hash = hashEnrollmentCode(input.enrollmentCode)
  const result = await db.transaction(async (trx) => {
    const terminal = await Terminal.query({ client: trx })
      .where('enrollment_code_hash', hash)
      .forUpdate()
      .first()
    if (!terminal || terminal.status === 'revoked') return fail('invalid_enrollment_code')
    const now = DateTime.utc()
    if (!terminal.enrollmentExpiresAt || terminal.enrollmentExpiresAt <= now) {
      return fail('enrollment_code_expired')
    }
    const before = terminalAuditView(terminal)
    const replaced = terminal.certificateSerial
    let pkcs12: string | null = null
    let certificate: IssuedTerminalCertificate
    if (publicKey) {
      certificate = issueTerminalCertificate(publicKey, terminal, now.toJSDate())
    } else {
      const bundle = issueTerminalPkcs12(
        terminal,
        (input as { pkcs12Password: string }).pkcs12Password,
        now.toJSDate()
      )
      pkcs12 = bundle.pkcs12
      certificate = bundle
    }
    terminal.useTransaction(trx)
    terminal.status = 'active'
    terminal.enrollmentCodeHash = null
    terminal.enrollmentExpiresAt = null
    terminal.enrolledAt = now
    terminal.certificateSerial = certificate.serialNumber
    terminal.certificateFingerprint = certificate.fingerprint
    terminal.certificateExpiresAt = DateTime.fromJSDate(certificate.notAfter).toUTC()
    terminal.lastAddress = input.address ?? terminal.lastAddress
    await terminal.save()
    await recordAudit(
      { type: 'terminal', id: terminal.publicId, name: terminal.name, ip: input.address ?? null },
      {
        action: 'terminals.enrolled',
        subjectType: 'terminal',
        subjectId: terminal.publicId,
        before,
        after: terminalAuditView(terminal),
        meta: {
          certificateSerial: certificate.serialNumber,
          replacedCertificateSerial: replaced,
          format: pkcs12 ? 'pkcs12' : 'csr',
        },
      },
      trx
    )
    return ok({ terminal, certificate, pkcs12 })
  })
  // Enrollment runs in the gateway: the replaced certificate is refused from its next request.
  if (result.ok) forgetTerminalCertificate(result.value.terminal.id)
  return result
}
