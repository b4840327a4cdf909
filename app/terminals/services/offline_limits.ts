import db from '@adonisjs/lucid/services/db'
import type Terminal from '#terminals/models/terminal'
import type { TerminalKind } from '#terminals/models/terminal'

/**
 * What a terminal may accept offline per card and per calendar day (school
 * time zone): the kind's defaults (terminal_offline_limits), overridden by
 * the terminal's own columns. A credential carries the card's own limits;
 * the terminal applies the smaller of each (docs/terminal-protocol.md §7).
 */
export interface TerminalOfflineLimits {
  countPerDay: number
  amountPerDay: number
  singleAmount: number
}

const NONE: TerminalOfflineLimits = { countPerDay: 0, amountPerDay: 0, singleAmount: 0 }

export async function kindOfflineLimits(): Promise<Map<TerminalKind, TerminalOfflineLimits>> {
  const rows = await db.from('terminal_offline_limits').select('*')
  return new Map(
    rows.map((row) => [
      row.kind as TerminalKind,
      {
        countPerDay: Number(row.count_per_day),
        amountPerDay: Number(row.amount_per_day),
        singleAmount: Number(row.single_amount),
      },
    ])
  )
}

export async function offlineLimitsFor(terminal: Terminal): Promise<TerminalOfflineLimits> {
  const row = await db.from('terminal_offline_limits').where('kind', terminal.kind).first()
  const base = row
    ? {
        countPerDay: Number(row.count_per_day),
        amountPerDay: Number(row.amount_per_day),
        singleAmount: Number(row.single_amount),
      }
    : NONE
  return {
    countPerDay: terminal.offlineCountPerDay ?? base.countPerDay,
    amountPerDay: terminal.offlineAmountPerDay ?? base.amountPerDay,
    singleAmount: terminal.offlineSingleAmount ?? base.singleAmount,
  }
}
