import { DateTime } from 'luxon'
import encryption from '@adonisjs/core/services/encryption'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import quadConfig from '#config/quad'
import { newPublicId } from '#core/services/ids'
import { enqueue } from '#appliance/services/jobs'
import { defineJob } from '#appliance/services/jobs_registry'
import { sqlTime } from '#identity/services/portal_sessions'

/**
 * Outgoing e-mail for the portal (password reset links), through a durable
 * outbox: the message is written in the same transaction as the token it
 * carries, and a job hands it to the mail transport.
 *
 * This build has no SMTP client: @adonisjs/mail is not among its packages.
 * The transport is therefore a slot (`useMailTransport`) that the mail
 * package's adapter fills once it is added; until then the send job fails
 * with a message saying so, visible on the console's jobs page, and the
 * message waits in the outbox until its link expires. docs/portal.md
 * explains it to operators.
 */

export interface OutgoingMail {
  from: string
  to: string
  subject: string
  text: string
}

export type MailTransport = (mail: OutgoingMail) => Promise<void>

let transport: MailTransport | null = null

/** Installs (or, with null, removes) the transport that delivers outgoing mail. */
export function useMailTransport(next: MailTransport | null): void {
  transport = next
}

/**
 * True when the operator configured outgoing mail (QUAD_SMTP_URL) and the
 * address links should point to (APP_URL). Never derived from the request's
 * Host header: a forged header would send reset links to another site.
 */
export function mailConfigured(): boolean {
  return Boolean(quadConfig.mail.smtpUrl && quadConfig.appUrl)
}

/** A link into the appliance, for a message. */
export function appLink(path: string): string {
  return `${String(quadConfig.appUrl).replace(/\/+$/, '')}${path}`
}

export interface QueuedMail {
  kind: string
  to: string
  subject: string
  text: string
  /** After this the message is pointless (its link expired): it is discarded unsent. */
  discardAfter: DateTime
}

/** Writes a message to the outbox and schedules its delivery, inside the caller's transaction. */
export async function queueMail(mail: QueuedMail, trx: TransactionClientContract): Promise<string> {
  const publicId = newPublicId()
  await trx.table('mail_outbox').insert({
    public_id: publicId,
    kind: mail.kind,
    to_address: mail.to,
    subject: mail.subject.slice(0, 200),
    body_ciphertext: encryption.encrypt(mail.text),
    status: 'pending',
    attempts: 0,
    discard_after: sqlTime(mail.discardAfter, trx),
    created_at: sqlTime(DateTime.utc(), trx),
  })
  await enqueue(sendMailJob, { outbox: publicId }, { trx })
  return publicId
}

function readTime(value: unknown): DateTime {
  if (value instanceof Date) return DateTime.fromJSDate(value, { zone: 'utc' })
  const text = String(value)
  const sql = DateTime.fromSQL(text, { zone: 'utc' })
  return sql.isValid ? sql : DateTime.fromISO(text, { zone: 'utc' })
}

/** Delivers one outbox message; safe to run again (a sent message is not sent twice). */
export async function deliverQueuedMail(
  publicId: string
): Promise<'sent' | 'discarded' | 'skipped'> {
  const row = await db.from('mail_outbox').where('public_id', publicId).first()
  if (!row || row.status !== 'pending') return 'skipped'
  const now = DateTime.utc()
  if (row.body_ciphertext === null || readTime(row.discard_after) <= now) {
    await db
      .from('mail_outbox')
      .where('id', row.id)
      .update({ status: 'discarded', body_ciphertext: null })
    return 'discarded'
  }
  await db.from('mail_outbox').where('id', row.id).increment('attempts', 1)
  if (!transport || !quadConfig.mail.from) {
    const missing = transport ? 'QUAD_MAIL_FROM is not set' : 'no mail transport is installed'
    const reason = `Cannot send e-mail: ${missing}. Sending needs the @adonisjs/mail package and QUAD_MAIL_FROM (see docs/portal.md).`
    await db.from('mail_outbox').where('id', row.id).update({ last_error: reason })
    throw new Error(reason)
  }
  const text = encryption.decrypt<string>(row.body_ciphertext)
  if (text === null)
    throw new Error(`Outbox message ${publicId} cannot be decrypted with the app key`)
  await transport({ from: quadConfig.mail.from, to: row.to_address, subject: row.subject, text })
  await db
    .from('mail_outbox')
    .where('id', row.id)
    .update({ status: 'sent', sent_at: sqlTime(now), body_ciphertext: null, last_error: null })
  return 'sent'
}

export const sendMailJob = defineJob<{ outbox: string }>(
  'portal.send_mail',
  async (payload, { logger }) => {
    const outcome = await deliverQueuedMail(payload.outbox)
    logger.info({ outbox: payload.outbox, outcome }, 'outbox message handled')
  },
  // A reset link lives 30 minutes: retries beyond that are pointless.
  { maxAttempts: 4, backoff: { baseMs: 60_000, maxMs: 10 * 60_000 } }
)
