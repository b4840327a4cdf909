import db from '@adonisjs/lucid/services/db'
import { DateTime } from 'luxon'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { dbDateTime } from '#cards/services/db_time'
import { fail, ok, type Result } from '#core/services/result'
import Terminal, { TERMINAL_KINDS, type TerminalKind } from '#terminals/models/terminal'
import type { TerminalOfflineLimits } from '#terminals/services/offline_limits'
import { forgetTerminalCertificate } from '#terminals/services/terminal_auth'
import { terminalAuditView } from '#terminals/services/terminal_view'

export interface UpdateTerminalInput {
  name: string
  location: string | null
  shopId: number | null
  offlineCountPerDay: number | null
  offlineAmountPerDay: number | null
  offlineSingleAmount: number | null
}

/**
 * Changes a terminal's name, place, shop and offline limit overrides. Kind
 * and certificate stay. The gateway answers with the new values within
 * CERTIFICATE_CACHE_MS (at once when it runs in this process).
 */
export async function updateTerminal(
  actor: AuditActor,
  publicId: string,
  input: UpdateTerminalInput
): Promise<Result<Terminal, 'not_found' | 'terminal_revoked'>> {
  const result = await db.transaction(async (trx) => {
    const terminal = await Terminal.query({ client: trx })
      .where('public_id', publicId)
      .forUpdate()
      .first()
    if (!terminal) return fail('not_found')
    if (terminal.status === 'revoked') return fail('terminal_revoked')
    const before = terminalAuditView(terminal)
    terminal.useTransaction(trx)
    terminal.merge(input)
    await terminal.save()
    await recordAudit(
      actor,
      {
        action: 'terminals.updated',
        subjectType: 'terminal',
        subjectId: terminal.publicId,
        before,
        after: terminalAuditView(terminal),
      },
      trx
    )
    return ok(terminal)
  })
  if (result.ok) forgetTerminalCertificate(result.value.id)
  return result
}

/** Sets the default offline limits of each terminal kind (terminal_offline_limits). */
export async function saveKindOfflineLimits(
  actor: AuditActor,
  limits: Map<TerminalKind, TerminalOfflineLimits>
): Promise<Result<void, never>> {
  await db.transaction(async (trx) => {
    const rows = await trx.from('terminal_offline_limits').select('*')
    const before = Object.fromEntries(
      rows.map((row) => [
        row.kind,
        {
          countPerDay: Number(row.count_per_day),
          amountPerDay: Number(row.amount_per_day),
          singleAmount: Number(row.single_amount),
        },
      ])
    )
    const now = dbDateTime(DateTime.utc(), trx)
    for (const kind of TERMINAL_KINDS) {
      const value = limits.get(kind)
      if (!value) continue
      const values = {
        count_per_day: value.countPerDay,
        amount_per_day: value.amountPerDay,
        single_amount: value.singleAmount,
        updated_at: now,
      }
      const updated = await trx.from('terminal_offline_limits').where('kind', kind).update(values)
      if (Number(updated) === 0)
        await trx.table('terminal_offline_limits').insert({ kind, ...values })
    }
    await recordAudit(
      actor,
      {
        action: 'terminals.offline_limits_changed',
        subjectType: 'terminal',
        subjectId: null,
        before,
        after: Object.fromEntries(limits),
      },
      trx
    )
  })
  return ok(undefined)
}
