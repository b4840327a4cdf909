import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { ok, type Result } from '#core/services/result'
import Terminal, { type TerminalKind } from '#terminals/models/terminal'
import {
  DEFAULT_ENROLLMENT_HOURS,
  hashEnrollmentCode,
  newEnrollmentCode,
} from '#terminals/services/enrollment_codes'
import { terminalAuditView } from '#terminals/services/terminal_view'

export interface CreateTerminalInput {
  name: string
  kind: TerminalKind
  location?: string | null
  shopId?: number | null
  enrollmentHours?: number
  /** Offline limit overrides; undefined or null: the kind's default. */
  offlineCountPerDay?: number | null
  offlineAmountPerDay?: number | null
  offlineSingleAmount?: number | null
}

export interface TerminalWithCode {
  terminal: Terminal
  /** The one-time code, shown once; only its hash is stored. */
  enrollmentCode: string
  expiresAt: DateTime
}

/** Registers a terminal, pending until it enrolls with the returned one-time code. */
export async function createTerminal(
  actor: AuditActor,
  input: CreateTerminalInput
): Promise<Result<TerminalWithCode, never>> {
  const enrollmentCode = newEnrollmentCode()
  const expiresAt = DateTime.utc().plus({
    hours: input.enrollmentHours ?? DEFAULT_ENROLLMENT_HOURS,
  })
  const terminal = await db.transaction(async (trx) => {
    const created = await Terminal.create(
      {
        name: input.name,
        kind: input.kind,
        location: input.location ?? null,
        shopId: input.shopId ?? null,
        status: 'pending',
        enrollmentCodeHash: hashEnrollmentCode(enrollmentCode),
        enrollmentExpiresAt: expiresAt,
        lastUploadedSequence: 0,
        offlineCountPerDay: input.offlineCountPerDay ?? null,
        offlineAmountPerDay: input.offlineAmountPerDay ?? null,
        offlineSingleAmount: input.offlineSingleAmount ?? null,
      },
      { client: trx }
    )
    await recordAudit(
      actor,
      {
        action: 'terminals.created',
        subjectType: 'terminal',
        subjectId: created.publicId,
        after: terminalAuditView(created),
        meta: { enrollmentExpiresAt: expiresAt.toISO() },
      },
      trx
    )
    return created
  })
  return ok({ terminal, enrollmentCode, expiresAt })
}
