/**
 * Daily settlement statements (docs/reports.md): generated each night for
 * the day before and on demand from the console, confirmed by finance
 * (after which they never change), and marked paid by a recorded payout.
 */
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { newPublicId } from '#core/services/ids'
import { fail, ok, type Result } from '#core/services/result'
import {
  loadBookedTransfer,
  PostTransfer,
  type BookedTransfer,
  type PostTransferError,
} from '#ledger/actions/post_transfer'
import { dbTime, merchantAccount, systemAccount } from '#ledger/services/accounts'
import Merchant from '#merchants/models/merchant'
import SettlementStatement from '#reports/models/settlement_statement'
import { dayWindow, reportZone, type DayWindow } from '#reports/services/periods'
import { divideNet, PAYOUT_KIND, sumTakings, takingsIn } from '#reports/services/settlement'

export type GenerateError = 'invalid_day' | 'future_day'

export interface GenerateSummary {
  day: string
  created: number
  updated: number
  /** Confirmed or paid statements, left as they are. */
  kept: number
}

const PUBLIC_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/

function isPostgres(trx: TransactionClientContract) {
  return trx.dialect.name === 'postgres'
}

/**
 * On SQLite the first statement of a transaction is a write, so that it holds
 * the write lock before it reads (the ledger's rule): this one changes no row.
 */
async function takeWriteLock(trx: TransactionClientContract) {
  if (isPostgres(trx)) return
  await trx.from('settlement_statements').where('id', -1).update({ status: 'draft' })
}

/** Works out the day's statements in `trx`; drafts are rewritten, the others kept. */
async function writeStatements(
  trx: TransactionClientContract,
  window: DayWindow,
  merchantId?: number
): Promise<GenerateSummary> {
  const takings = await takingsIn(trx, window, merchantId)
  const existingQuery = trx.from('settlement_statements').where('day', window.day)
  if (merchantId !== undefined) existingQuery.where('merchant_id', merchantId)
  const existing = await existingQuery.select('id', 'merchant_id', 'status')
  const existingBy = new Map(existing.map((row) => [Number(row.merchant_id), row]))
  const ids = new Set([
    ...takings.map((entry) => entry.merchantId),
    ...existing.map((row) => Number(row.merchant_id)),
  ])
  const summary: GenerateSummary = { day: window.day, created: 0, updated: 0, kept: 0 }
  if (ids.size === 0) return summary
  const merchants = await Merchant.query({ client: trx }).whereIn('id', [...ids])
  const now = dbTime(trx)
  for (const merchant of merchants) {
    const previous = existingBy.get(merchant.id)
    if (previous && previous.status !== 'draft') {
      summary.kept += 1
      continue
    }
    const total = sumTakings(
      merchant.id,
      takings.filter((entry) => entry.merchantId === merchant.id)
    )
    const division = divideNet(total.net, merchant.commissionBp, merchant.splitRules)
    const values = {
      payments_count: total.paymentsCount,
      payments_amount: total.paymentsAmount,
      refunds_count: total.refundsCount,
      refunds_amount: total.refundsAmount,
      net: total.net,
      commission_bp: division.commissionBp,
      commission: division.commission,
      payable: division.payable,
      split: JSON.stringify(division.split),
      generated_at: now,
      updated_at: now,
    }
    if (previous) {
      await trx
        .from('settlement_statements')
        .where('id', previous.id)
        .where('status', 'draft')
        .update(values)
      summary.updated += 1
    } else {
      await trx
        .insertQuery()
        .table('settlement_statements')
        .insert({
          ...values,
          public_id: newPublicId(),
          merchant_id: merchant.id,
          day: window.day,
          zone: window.zone,
          period_from: dbTime(trx, window.from),
          period_to: dbTime(trx, window.to),
          status: 'draft',
          created_at: now,
        })
        // The nightly job and a console request may generate the same day at once.
        .onConflict(['merchant_id', 'day'])
        .ignore()
      summary.created += 1
    }
  }
  return summary
}

/**
 * Generates (or brings up to date) the statements of one day for every
 * merchant that took or refunded money that day, or for one merchant.
 * Confirmed and paid statements are never touched. Today may be generated
 * (a draft that will change); a day in the future may not.
 */
export async function generateStatements(
  day: string,
  options: { merchantId?: number; actor?: AuditActor } = {}
): Promise<Result<GenerateSummary, GenerateError>> {
  const zone = await reportZone()
  const window = dayWindow(day, zone)
  if (!window) return fail('invalid_day')
  if (window.from > DateTime.utc()) return fail('future_day')
  const summary = await db.transaction(async (trx) => {
    await takeWriteLock(trx)
    const written = await writeStatements(trx, window, options.merchantId)
    if (options.actor)
      await recordAudit(
        options.actor,
        {
          action: 'reports.statements_generated',
          subjectType: 'settlement_statement',
          meta: { ...written },
        },
        trx
      )
    return written
  })
  return ok(summary)
}

export type ConfirmError = 'not_found' | 'not_draft' | 'day_not_over'

async function lockedStatement(trx: TransactionClientContract, publicId: string) {
  if (typeof publicId !== 'string' || !PUBLIC_ID.test(publicId)) return null
  const query = SettlementStatement.query({ client: trx }).where('public_id', publicId)
  if (isPostgres(trx)) query.forUpdate()
  return query.first()
}

/**
 * Confirms a draft statement of a day that has ended, after working it out
 * once more: from then on it is immutable.
 */
export async function confirmStatement(
  publicId: string,
  actor: AuditActor
): Promise<Result<SettlementStatement, ConfirmError>> {
  return db.transaction(async (trx) => {
    await takeWriteLock(trx)
    const statement = await lockedStatement(trx, publicId)
    if (!statement) return fail('not_found')
    if (statement.status !== 'draft') return fail('not_draft', { status: statement.status })
    if (statement.periodTo > DateTime.utc()) return fail('day_not_over')
    const window = dayWindow(statement.day, statement.zone)!
    await writeStatements(trx, window, statement.merchantId)
    const now = dbTime(trx)
    await trx
      .from('settlement_statements')
      .where('id', statement.id)
      .where('status', 'draft')
      .update({
        status: 'confirmed',
        confirmed_at: now,
        confirmed_by: actor.name ?? actor.id ?? actor.type,
        updated_at: now,
      })
    const confirmed = await SettlementStatement.query({ client: trx })
      .where('id', statement.id)
      .firstOrFail()
    await recordAudit(
      actor,
      {
        action: 'reports.statement_confirmed',
        subjectType: 'settlement_statement',
        subjectId: confirmed.publicId,
        after: {
          day: confirmed.day,
          net: confirmed.net,
          commission: confirmed.commission,
          payable: confirmed.payable,
          split: confirmed.split,
        },
      },
      trx
    )
    return ok(confirmed)
  })
}

export type PayoutError =
  'not_found' | 'not_confirmed' | 'nothing_to_pay' | 'invalid_reference' | PostTransferError

export interface RecordedPayout {
  statement: SettlementStatement
  transfer: BookedTransfer
  /** The statement had been paid before: nothing new was booked. */
  replayed: boolean
}

/** The payout's idempotency key: one per statement, so a statement is paid out at most once. */
export function payoutKey(statementPublicId: string) {
  return `payout:${statementPublicId}`
}

class Refusal {
  constructor(readonly failure: { ok: false; error: PayoutError; details?: any }) {}
}

/**
 * Records that a confirmed statement was paid out: one ledger transfer
 * (kind `payout`, key `payout:<statement>`) debits the merchant account by
 * the net and credits the payout clearing account with the payable amount
 * and fee income with the commission; the statement becomes paid. Asking
 * again for a paid statement books nothing and answers the first transfer.
 */
export async function recordPayout(
  input: { publicId: string; reference?: string | null },
  actor: AuditActor
): Promise<Result<RecordedPayout, PayoutError>> {
  const reference = input.reference?.trim() || null
  if (reference !== null && reference.length > 100) return fail('invalid_reference')
  try {
    return await db.transaction(async (trx) => {
      await takeWriteLock(trx)
      const statement = await lockedStatement(trx, input.publicId)
      if (!statement) throw new Refusal(fail('not_found'))
      if (statement.status === 'paid' && statement.payoutTransferId !== null) {
        const transfer = await loadBookedTransfer(trx, statement.payoutTransferId, true)
        return ok({ statement, transfer, replayed: true })
      }
      if (statement.status !== 'confirmed') throw new Refusal(fail('not_confirmed'))
      if (statement.payable <= 0) throw new Refusal(fail('nothing_to_pay'))
      const merchant = await Merchant.query({ client: trx })
        .where('id', statement.merchantId)
        .firstOrFail()
      const postings = [
        { account: await merchantAccount(statement.merchantId, trx), amount: -statement.net },
        { account: await systemAccount('payout_clearing', trx), amount: statement.payable },
      ]
      if (statement.commission > 0)
        postings.push({
          account: await systemAccount('fee_income', trx),
          amount: statement.commission,
        })
      const booked = await new PostTransfer().handle(
        {
          idempotencyKey: payoutKey(statement.publicId),
          kind: PAYOUT_KIND,
          postings,
          memo: reference,
          metadata: {
            statement: statement.publicId,
            merchant: merchant.publicId,
            day: statement.day,
          },
          actor,
          audit: false,
        },
        trx
      )
      if (!booked.ok) throw new Refusal(booked)
      const now = dbTime(trx)
      await trx
        .from('settlement_statements')
        .where('id', statement.id)
        .where('status', 'confirmed')
        .update({
          status: 'paid',
          payout_transfer_id: booked.value.id,
          paid_at: now,
          paid_by: actor.name ?? actor.id ?? actor.type,
          payout_reference: reference,
          updated_at: now,
        })
      const paid = await SettlementStatement.query({ client: trx })
        .where('id', statement.id)
        .firstOrFail()
      await recordAudit(
        actor,
        {
          action: 'reports.payout_recorded',
          subjectType: 'settlement_statement',
          subjectId: paid.publicId,
          after: {
            merchant: merchant.code,
            day: paid.day,
            net: paid.net,
            payable: paid.payable,
            commission: paid.commission,
            transfer: booked.value.publicId,
            reference,
          },
        },
        trx
      )
      return ok({ statement: paid, transfer: booked.value, replayed: booked.value.replayed })
    })
  } catch (error) {
    if (error instanceof Refusal) return error.failure
    throw error
  }
}
