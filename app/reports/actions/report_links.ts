/**
 * Merchant report links (docs/reports.md): the mobile report of a merchant
 * is read through a link with a secret token. Finance makes or replaces the
 * link in the console (the previous link stops working at once); only the
 * token's SHA-256 is stored, so the link is shown once, when it is made.
 */
import { createHash, randomBytes } from 'node:crypto'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import { dbTime } from '#ledger/services/accounts'
import Merchant from '#merchants/models/merchant'

/** 24 random bytes in base64url: 32 characters. */
export const REPORT_TOKEN = /^[\w-]{32}$/

export function reportTokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex')
}

/** Makes a new link for the merchant, replacing any earlier one. Answers the new token. */
export async function rotateReportLink(
  merchantPublicId: string,
  actor: AuditActor
): Promise<Result<{ merchant: Merchant; token: string }, 'not_found'>> {
  if (typeof merchantPublicId !== 'string' || !/^[0-9A-Z]{26}$/.test(merchantPublicId))
    return fail('not_found')
  const merchant = await Merchant.findBy('public_id', merchantPublicId)
  if (!merchant) return fail('not_found')
  const token = randomBytes(24).toString('base64url')
  await db.transaction(async (trx) => {
    const now = dbTime(trx)
    const replaced = await trx
      .from('merchant_report_links')
      .where('merchant_id', merchant.id)
      .update({ token_hash: reportTokenHash(token), updated_at: now })
    const count = Array.isArray(replaced) ? Number(replaced[0] ?? 0) : Number(replaced ?? 0)
    if (count === 0)
      await trx
        .insertQuery()
        .table('merchant_report_links')
        .insert({
          merchant_id: merchant.id,
          token_hash: reportTokenHash(token),
          created_at: now,
          updated_at: now,
        })
    await recordAudit(
      actor,
      {
        action: 'reports.report_link_rotated',
        subjectType: 'merchant_report_link',
        subjectId: merchant.publicId,
        meta: { merchant: merchant.code, replaced: count > 0 },
      },
      trx
    )
  })
  return ok({ merchant, token })
}

/** The merchant whose current link carries this token, or null. */
export async function merchantForReportToken(token: unknown): Promise<Merchant | null> {
  if (typeof token !== 'string' || !REPORT_TOKEN.test(token)) return null
  const row = await db
    .from('merchant_report_links')
    .where('token_hash', reportTokenHash(token))
    .select('merchant_id')
    .first()
  if (!row) return null
  return Merchant.find(Number(row.merchant_id))
}

/** When the merchant's link was last made, or null if it has none. */
export async function reportLinkMadeAt(merchantId: number): Promise<DateTime | null> {
  const row = await db
    .from('merchant_report_links')
    .where('merchant_id', merchantId)
    .select('updated_at')
    .first()
  if (!row) return null
  const value = row.updated_at
  return value instanceof Date
    ? DateTime.fromJSDate(value, { zone: 'utc' })
    : DateTime.fromSQL(String(value), { zone: 'utc' })
}
