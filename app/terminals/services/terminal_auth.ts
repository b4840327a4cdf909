import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import { dbDateTime } from '#cards/services/db_time'
import Terminal from '#terminals/models/terminal'
import { CertificateCache } from '#terminals/services/certificate_cache'

export type TerminalAuthError = 'unknown_certificate' | 'terminal_revoked'

/** last_seen_at is written at most this often per terminal. */
const SEEN_WRITE_INTERVAL_MS = 10_000

/**
 * How long the gateway uses what it read about a certificate, in
 * milliseconds: the longest a revocation (or re-enrollment, or edit) made
 * by another process, the console, takes to reach the gateway.
 */
export const CERTIFICATE_CACHE_MS = 2_000

/**
 * The terminal a client certificate belongs to, read from the database.
 * The gateway asks `terminalCertificates` instead, which remembers the
 * answer for CERTIFICATE_CACHE_MS.
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

/**
 * Certificate fingerprint → active terminal, for this process's gateway.
 * The requests of a kept-alive connection cost no query; a terminal
 * changed in another process is read again within CERTIFICATE_CACHE_MS.
 */
export const terminalCertificates = new CertificateCache<Terminal, TerminalAuthError>({
  lookup: terminalForCertificate,
  ttlMs: CERTIFICATE_CACHE_MS,
})

/**
 * After a change to a terminal is committed: a gateway in this process
 * reads the terminal again on its next request (other processes within
 * CERTIFICATE_CACHE_MS).
 */
export function forgetTerminalCertificate(terminalId: number) {
  terminalCertificates.forgetTerminal(terminalId)
}

/**
 * Records that the terminal was seen now (throttled), and from where. The
 * gateway hands every request of a terminal the same remembered object, so
 * its lastSeenAt is set before the write: concurrent requests write once.
 */
export async function markSeen(terminal: Terminal, address: string | null, now: Date) {
  const last = terminal.lastSeenAt?.toMillis() ?? 0
  if (now.getTime() - last < SEEN_WRITE_INTERVAL_MS && terminal.lastAddress === address) return
  const seen = DateTime.fromJSDate(now).toUTC()
  terminal.lastSeenAt = seen
  terminal.lastAddress = address
  const client = db.connection()
  await client
    .from('terminals')
    .where('id', terminal.id)
    .update({ last_seen_at: dbDateTime(seen, client), last_address: address })
}
