/**
 * The booking of a campus-code payment at a till, the campus's busiest
 * write (docs/adr/0013-group-commit-for-code-payments.md): one unit of a
 * group commit, in plain prepared statements.
 *
 * In the unit, in order: the shop and the limit per payment, the request's
 * key (a retry books nothing), the blacklist (card and phone), the one-time
 * claim of the code, the card's state, the holder's wallets, the day's limit,
 * then the transfer, its postings, both balances and the payment row — the
 * rows PostTransfer and bookShopPayment write, with the same request hash,
 * so that a retry, a refund or `ledger:verify` cannot tell them apart.
 *
 * A purchase that subsidy or voucher money would pay for (lots, meal
 * windows, restrictions) or whose accounts do not exist yet is booked by
 * bookShopPaymentIn in the same unit instead: the general path, slower and
 * complete. Cash payments, the bulk of a canteen's, take the short one.
 */
import { type DateTime } from 'luxon'
import type { AuditActor } from '#core/services/audit'
import type { UnitContext } from '#core/services/group_commit'
import { GroupCommit } from '#core/services/group_commit'
import { newPublicId } from '#core/services/ids'
import { fail, type Fail } from '#core/services/result'
import type { SqlStatements } from '#core/services/sql_statements'
import { toHex } from '#cards/campus_code/bytes'
import type { VerifiedCode } from '#cards/campus_code/verify'
import {
  CODE_HOLDER_SQL,
  DEVICE_LISTED_SQL,
  holderFromRow,
  type CodeHolder,
} from '#cards/services/code_verification'
import { dbTimeOfMillis } from '#cards/services/db_time'
import { MAX_VERIFIER_LENGTH } from '#cards/services/replay_store'
import { shownBalance } from '#ledger/services/account_kinds'
import {
  ACCOUNT_COLUMNS,
  accountOf,
  cashOnlyPlan,
  forUpdate,
  writeLockedTransfer,
  type AccountRow,
  type CashPlan,
} from '#ledger/services/plain_transfers'
import { fenFromDb } from '#ledger/services/money'
import {
  bookShopPaymentIn,
  dayStartOf,
  PAYEE_SELECT,
  payeeFromRow,
  Refusal,
  type BookedShopPayment,
  type BookingError,
  type Payee,
  type PayeeError,
} from '#merchants/services/shop_payments'

export interface CodeBookingRequest {
  shopPublicId: string
  amount: number
  idempotencyKey: string
  actor: AuditActor
  verifier: string
  /** The purchase's time, whole seconds, UTC. */
  at: DateTime
  /** Unix seconds the code was verified at. */
  now: number
  code: VerifiedCode
  maxPerPayment: number
  maxPerDay: number
}

export type CodeBookingRefusal =
  | PayeeError
  | BookingError
  | 'over_transaction_limit'
  | 'card_blacklisted'
  | 'card_not_found'
  | 'card_frozen'
  | 'card_revoked'
  | 'card_expired'
  | 'card_not_active'

export type CodeBookingOutcome =
  /** Booked now. */
  | { kind: 'booked'; booked: BookedShopPayment; holder: CodeHolder }
  /** The key was booked before: the caller answers with that payment. */
  | { kind: 'existing'; payee: Payee }
  /** The code was accepted before: a replay (or a retry racing its first request). */
  | { kind: 'replayed'; payee: Payee }
  | { kind: 'refused'; failure: Fail<CodeBookingRefusal> }

const CARD_STATE_ERRORS = {
  frozen: 'card_frozen',
  revoked: 'card_revoked',
  expired: 'card_expired',
  pending_activation: 'card_not_active',
} as const

/** The shop (PAYEE_SELECT) and the transfer booked under a key: parameters key, shop. */
const SHOP_AND_KEY_SQL = `${PAYEE_SELECT.replace(
  ' FROM shops',
  `, (SELECT ledger_transfers.id FROM ledger_transfers
      WHERE ledger_transfers.idempotency_key = ?) AS booked_transfer_id FROM shops`
)} WHERE shops.public_id = ?`

/** CODE_HOLDER_SQL with the phone's blacklisting: parameters device key (hex), card number. */
const HOLDER_AND_DEVICE_SQL = CODE_HOLDER_SQL.replace(
  ' FROM cards',
  `, (${DEVICE_LISTED_SQL}) AS device_listed_id FROM cards`
)

function refused(failure: Fail<CodeBookingRefusal>): CodeBookingOutcome {
  return { kind: 'refused', failure }
}

/**
 * The one group commit of code payments in this process. On SQLite its
 * transactions begin with a write, so that they hold the write lock before
 * they read (PostTransfer's note).
 */
export const codePaymentCommits = new GroupCommit({
  begin: async ({ sql }) => {
    if (sql.dialect === 'sqlite')
      await sql.run('UPDATE merchant_payments SET refunded = 0 WHERE id = -1')
  },
})

/** Books a verified code's payment in the next group commit. */
export function bookCodePayment(request: CodeBookingRequest): Promise<CodeBookingOutcome> {
  return codePaymentCommits.run((unit) => bookInUnit(unit, request))
}

async function bookInUnit(
  { trx, sql }: UnitContext,
  request: CodeBookingRequest
): Promise<CodeBookingOutcome> {
  // The shop and whether the key was booked before, in one statement.
  const shopRow = await sql.get(SHOP_AND_KEY_SQL, [request.idempotencyKey, request.shopPublicId])
  const payee = payeeFromRow(shopRow)
  if (!payee.ok) return refused(payee)
  if (request.amount > request.maxPerPayment)
    return refused(fail('over_transaction_limit', { limit: request.maxPerPayment }))
  if (shopRow?.booked_transfer_id !== null && shopRow?.booked_transfer_id !== undefined)
    return { kind: 'existing', payee: payee.value }

  // The card, its holder and whether the card or the phone is on the blacklist.
  const { code } = request
  const deviceKey = toHex(code.credential.devicePublicKey)
  const holderRow = await sql.get(HOLDER_AND_DEVICE_SQL, [deviceKey, code.cardNo])
  const holder = holderFromRow(holderRow)
  const deviceListed = holderRow
    ? holderRow.device_listed_id !== null && holderRow.device_listed_id !== undefined
    : Boolean(await sql.get(DEVICE_LISTED_SQL, [deviceKey]))
  if (holder?.listed || deviceListed)
    return refused(fail('card_blacklisted', { cardNo: code.cardNo }))

  const claimed = await sql.run(
    `INSERT INTO card_seen_codes (code_id, card_id, card_no, first_seen_at, first_seen_by, expires_at)
     VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (code_id) DO NOTHING`,
    [
      code.codeId,
      holder?.cardId ?? null,
      code.cardNo,
      dbTimeOfMillis(request.now * 1000, sql.dialect),
      request.verifier.slice(0, MAX_VERIFIER_LENGTH),
      dbTimeOfMillis(code.acceptUntil * 1000, sql.dialect),
    ]
  )
  if (claimed === 0) return { kind: 'replayed', payee: payee.value }
  if (!holder) return refused(fail('card_not_found'))
  if (holder.cardState !== 'active')
    return refused(
      fail(CARD_STATE_ERRORS[holder.cardState] ?? 'card_not_active', { cardNo: holder.cardNo })
    )

  const shopRequest = {
    personId: holder.personId,
    cardId: holder.cardId,
    payee: payee.value,
    amount: request.amount,
    channel: 'campus_code' as const,
    idempotencyKey: request.idempotencyKey,
    actor: request.actor,
    at: request.at,
    maxPerDay: request.maxPerDay,
    metadata: { card: holder.cardNo, code: code.codeId },
  }
  const cash = await cashOnlyPlan({ trx, sql }, request.amount, holder.personId)
  if (!cash) return generalPath(trx, shopRequest, holder)
  if (cash.shortfall > 0)
    return refused(
      fail('insufficient_funds', {
        available: request.amount - cash.shortfall,
        requested: request.amount,
      })
    )

  const spent = await sql.get<{ total: unknown }>(
    `SELECT COALESCE(SUM(amount), 0) AS total FROM merchant_payments
     WHERE person_id = ? AND channel = 'campus_code' AND paid_at >= ?`,
    [holder.personId, dbTimeOfMillis(dayStartOf(request.at).toMillis(), sql.dialect)]
  )
  const spentToday = fenFromDb(spent?.total ?? 0)
  if (spentToday + request.amount > request.maxPerDay)
    return refused(
      fail('over_daily_limit', {
        limit: request.maxPerDay,
        spent: spentToday,
        requested: request.amount,
      })
    )

  const merchantRow = await sql.get(
    `SELECT ${ACCOUNT_COLUMNS} FROM ledger_accounts WHERE kind = 'merchant' AND merchant_id = ?${forUpdate(sql)}`,
    [payee.value.merchantId]
  )
  // The merchant's first payment: the general path creates its account.
  if (!merchantRow) return generalPath(trx, shopRequest, holder)
  return writePayment(sql, shopRequest, holder, cash, accountOf(merchantRow))
}

type ShopRequest = Parameters<typeof bookShopPaymentIn>[1]

/** bookShopPaymentIn in the unit: subsidy and voucher money, first payments. */
async function generalPath(
  trx: UnitContext['trx'],
  request: ShopRequest,
  holder: CodeHolder
): Promise<CodeBookingOutcome> {
  try {
    const booked = await bookShopPaymentIn(trx, request)
    return booked.ok ? { kind: 'booked', booked: booked.value, holder } : refused(booked)
  } catch (error) {
    if (error instanceof Refusal) return refused(error.failure)
    throw error
  }
}

/** The transfer (two postings) and the payment row. */
async function writePayment(
  sql: SqlStatements,
  request: ShopRequest,
  holder: CodeHolder,
  plan: CashPlan,
  merchant: AccountRow
): Promise<CodeBookingOutcome> {
  const { amount, payee } = request
  const booked = await writeLockedTransfer(
    sql,
    {
      idempotencyKey: request.idempotencyKey,
      kind: 'payment',
      postings: [
        { account: plan.wallet.id, amount: -amount },
        { account: merchant.id, amount },
      ],
      metadata: { channel: request.channel, shop: payee.shopPublicId, ...request.metadata },
      actor: request.actor,
    },
    new Map([
      [plan.wallet.id, plan.wallet],
      [merchant.id, merchant],
    ])
  )
  if (!booked.ok) return refused(booked)
  const paymentId = newPublicId()
  await sql.run(
    `INSERT INTO merchant_payments (public_id, transfer_id, merchant_id, shop_id, person_id,
       card_id, channel, amount, refunded, paid_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)`,
    [
      paymentId,
      booked.value.id,
      payee.merchantId,
      payee.shopId,
      request.personId,
      request.cardId,
      request.channel,
      amount,
      dbTimeOfMillis(request.at.toMillis(), sql.dialect),
    ]
  )
  let balanceAfter = 0
  for (const wallet of plan.wallets) balanceAfter += shownBalance(wallet.normalSide, wallet.balance)
  return {
    kind: 'booked',
    holder,
    booked: {
      transfer: booked.value,
      payment: { publicId: paymentId, channel: request.channel, amount, refunded: 0 },
      legs: [{ wallet: 'cash', amount }],
      balanceAfter,
    },
  }
}
