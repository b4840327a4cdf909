import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import { dbDateTime } from '#cards/services/db_time'
import Terminal from '#terminals/models/terminal'

export type TerminalAuthError = 'unknown_certificate' | 'terminal_revoked'

/** last_seen_at is written at most this often per terminal. */
const SEEN_WRITE_INTERVAL_MS = 10_000

/**
 * The terminal a client certificate belongs to. Looked up on every request,
 * so a revocation in the console is refused on the terminal's next request.
 */
export async function terminalForCertificate(
  fingerprint: string
): Promise<{ ok: true; terminal: Terminal } | { ok: false; error: TerminalAuthError }> {
  const terminal = await Terminal.findBy('certificate_fingerprint', fingerprint)
  if (!terminal) return { ok: false, error: 'unknown_certificate' }
  if (terminal.status === 'revoked') return { ok: false, error: 'terminal_revoked' }
  if (terminal.status !== 'active') return { ok: false, error: 'unknown_certificate' }
  return { ok: true, terminal }
}

/** Records that the terminal was seen now (throttled), and from where. */
export async function markSeen(terminal: Terminal, address: string | null, now: Date) {
  const last = terminal.lastSeenAt?.toMillis() ?? 0
  if (now.getTime() - last < SEEN_WRITE_INTERVAL_MS && terminal.lastAddress === address) return
  const seen = DateTime.fromJSDate(now).toUTC()
  const client = db.connection()
  await client
    .from('terminals')
    .where('id', terminal.id)
    .update({ last_seen_at: dbDateTime(seen, client), last_address: address })
  terminal.lastSeenAt = seen
  terminal.lastAddress = address
}
