import vine from '@vinejs/vine'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { AuditActor } from '#core/services/audit'
import { AuthorizeCodePayment } from '#ledger/actions/authorize_code_payment'
import {
  BookOfflinePayments,
  MAX_OFFLINE_BATCH,
  type OfflineRecordInput,
} from '#ledger/actions/book_offline_payments'
import { closeTerminalBatch } from '#ledger/services/batch_close'
import type { GatewayContext } from '#terminals/gateway/context'
import type Terminal from '#terminals/models/terminal'

/**
 * The gateway's money endpoints (docs/terminal-protocol.md, "Payments"):
 * online code payments, offline batch upload and end-of-day batch totals.
 */

const paymentValidator = vine.compile(
  vine.object({
    code: vine.string().minLength(1).maxLength(1024),
    amount: vine.number().withoutDecimals().min(1).max(Number.MAX_SAFE_INTEGER),
    sequence: vine.number().withoutDecimals().min(1).max(Number.MAX_SAFE_INTEGER),
    terminal_time: vine.number().optional(),
  })
)

const offlineValidator = vine.compile(
  vine.object({
    records: vine
      .array(vine.object({}).allowUnknownProperties())
      .minLength(1)
      .maxLength(MAX_OFFLINE_BATCH),
  })
)

const closeValidator = vine.compile(
  vine.object({
    business_date: vine.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    online: vine.object({
      count: vine.number().withoutDecimals().min(0).max(10_000_000),
      amount: vine.number().withoutDecimals().min(0).max(Number.MAX_SAFE_INTEGER),
    }),
    offline: vine.object({
      count: vine.number().withoutDecimals().min(0).max(10_000_000),
      amount: vine.number().withoutDecimals().min(0).max(Number.MAX_SAFE_INTEGER),
    }),
  })
)

/** Refusals that are about the request itself rather than the payment. */
const REQUEST_ERRORS = new Set(['invalid_amount', 'amount_out_of_range', 'invalid_key'])

function actorOf(terminal: Terminal): AuditActor {
  return { type: 'terminal', id: terminal.publicId, name: terminal.name?.slice(0, 100) ?? null }
}

/** Shop id → public id: a shop's public id never changes, so it is read once per process. */
const shopPublicIds = new Map<number, string>()

/** The shop the terminal sells for; a till without a shop cannot take payments. */
async function shopOf(ctx: GatewayContext): Promise<string> {
  const terminal = ctx.terminal
  if (terminal.shopId === null) ctx.refuse('terminal_has_no_shop', 409)
  const known = shopPublicIds.get(terminal.shopId)
  if (known) return known
  const shop = await db.from('shops').where('id', terminal.shopId).select('public_id').first()
  if (!shop) ctx.refuse('terminal_has_no_shop', 409)
  shopPublicIds.set(terminal.shopId, shop.public_id)
  return shop.public_id as string
}

/** POST /t/v1/payments: an online campus-code payment; `sequence` is the idempotency key. */
export async function authorizePayment(ctx: GatewayContext) {
  const input = await ctx.validate(paymentValidator)
  const terminal = ctx.terminal
  const shop = await shopOf(ctx)
  const result = await new AuthorizeCodePayment().handle({
    codeText: input.code,
    shopPublicId: shop,
    amount: input.amount,
    idempotencyKey: `t:${terminal.publicId}:${input.sequence}`,
    actor: actorOf(terminal),
    verifier: terminal.publicId,
    at: DateTime.fromJSDate(ctx.now, { zone: 'utc' }),
  })
  if (!result.ok) {
    const status =
      result.error === 'idempotency_conflict' ? 409 : REQUEST_ERRORS.has(result.error) ? 422 : 402
    ctx.refuse(result.error, status, { sequence: input.sequence, ...result.details })
  }
  const receipt = result.value
  return ctx.reply({
    status: 'approved',
    sequence: input.sequence,
    transfer: receipt.transfer.publicId,
    payment: receipt.payment.publicId,
    amount: receipt.payment.amount,
    balance_after: receipt.balanceAfter,
    holder: { name: receipt.holder.name, card_no: receipt.holder.cardNo },
    booked_at: receipt.transfer.bookedAt.toISO(),
    replayed: receipt.transfer.replayed,
  })
}

/** One uploaded record, as the terminal sends it (snake_case, time in Unix ms). */
function recordOf(raw: Record<string, unknown>, shop: string): OfflineRecordInput {
  const occurredAt = Number(raw.occurred_at)
  return {
    sequence: Number(raw.sequence),
    code: typeof raw.code === 'string' ? raw.code : '',
    cardNo: typeof raw.card_no === 'string' ? raw.card_no : '',
    amount: Number(raw.amount),
    recordedAt: Number.isFinite(occurredAt) ? Math.floor(occurredAt / 1000) : Number.NaN,
    shop,
  }
}

/**
 * POST /t/v1/offline: a batch of offline payment records. Every payment
 * record gets a result (booked, duplicate or refused); records of another
 * type (access decisions) are not answered here and stay with the terminal.
 */
export async function uploadOffline(ctx: GatewayContext) {
  const input = await ctx.validate(offlineValidator)
  const terminal = ctx.terminal
  const payments = input.records.filter(
    (raw: Record<string, unknown>) => raw.type === undefined || raw.type === 'payment'
  )
  if (payments.length === 0) return ctx.reply({ results: [], booked: 0, duplicates: 0, refused: 0 })
  const shop = await shopOf(ctx)
  const summary = await new BookOfflinePayments().handle({
    terminalId: terminal.publicId,
    terminalShop: shop,
    records: payments.map((raw: Record<string, unknown>) => recordOf(raw, shop)),
    actor: actorOf(terminal),
    now: Math.floor(ctx.now.getTime() / 1000),
  })
  const highest = Math.max(0, ...summary.results.map((result) => result.sequence))
  if (highest > 0) {
    await db
      .from('terminals')
      .where('id', terminal.id)
      .where('last_uploaded_sequence', '<', highest)
      .update({ last_uploaded_sequence: highest })
  }
  return ctx.reply({
    results: summary.results.map((result) => {
      if (result.status === 'booked')
        return {
          sequence: result.sequence,
          status: 'booked',
          transfer: result.transfer,
          covered: result.covered,
          advanced: result.advanced,
        }
      if (result.status === 'duplicate')
        return {
          sequence: result.sequence,
          status: 'duplicate',
          first: result.first,
          transfer: result.transfer,
          refusal: result.refusal,
        }
      return {
        sequence: result.sequence,
        status: 'refused',
        refusal: result.refusal,
        flag: result.flag,
      }
    }),
    booked: summary.booked,
    duplicates: summary.duplicates,
    refused: summary.refused,
  })
}

/** POST /t/v1/batches/close: the terminal's totals for a day, compared with the ledger's. */
export async function closeBatch(ctx: GatewayContext) {
  const input = await ctx.validate(closeValidator)
  const closed = await closeTerminalBatch({
    terminalId: ctx.terminal.publicId,
    businessDate: input.business_date,
    reported: input,
  })
  if (!closed.ok) ctx.refuse(closed.error, 422)
  return ctx.reply(closed.value)
}
