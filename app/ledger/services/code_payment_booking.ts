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
import { GroupCommit, type BatchWork, type UnitContext } from '#core/services/group_commit'
import { fail, type Fail } from '#core/services/result'
import type { SqlStatements } from '#core/services/sql_statements'
import { toHex } from '#cards/campus_code/bytes'
import type { VerifiedCode } from '#cards/campus_code/verify'
import {
  CODE_HOLDER_COLUMNS,
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
  cashOnlyPlanOf,
  forUpdate,
  inGroups,
  lockAccounts,
  stageLockedTransfer,
  writeLockedTransfer,
  writeStagedTransfers,
  type AccountRow,
  type CashPlan,
  type StagedTransfer,
} from '#ledger/services/plain_transfers'
import { walletSettings } from '#ledger/services/wallet_settings'
import { fenFromDb } from '#ledger/services/money'
import {
  bookShopPaymentIn,
  dayStartOf,
  insertMerchantPayments,
  PAYEE_COLUMNS,
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

/** The code payments a group commit books together (bookBatch), or one by one (bookInUnit). */
const codePayments: BatchWork<CodeBookingRequest, CodeBookingOutcome> = {
  batch: (unit, requests) => bookBatch(unit, requests),
  one: (unit, request) => bookInUnit(unit, request),
}

/** Books a verified code's payment in the next group commit, with the others queued beside it. */
export function bookCodePayment(request: CodeBookingRequest): Promise<CodeBookingOutcome> {
  return codePaymentCommits.runBatched(codePayments, request)
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

  const shopRequest = shopRequestOf(request, payee.value, holder)
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

function shopRequestOf(request: CodeBookingRequest, payee: Payee, holder: CodeHolder): ShopRequest {
  return {
    personId: holder.personId,
    cardId: holder.cardId,
    payee,
    amount: request.amount,
    channel: 'campus_code',
    idempotencyKey: request.idempotencyKey,
    actor: request.actor,
    at: request.at,
    maxPerDay: request.maxPerDay,
    metadata: { card: holder.cardNo, code: request.code.codeId },
  }
}

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

/** The payment's transfer: the holder's cash wallet pays the merchant. */
function paymentTransfer(request: ShopRequest, wallet: AccountRow, merchant: AccountRow) {
  return {
    idempotencyKey: request.idempotencyKey,
    kind: 'payment' as const,
    postings: [
      { account: wallet.id, amount: -request.amount },
      { account: merchant.id, amount: request.amount },
    ],
    metadata: { channel: request.channel, shop: request.payee.shopPublicId, ...request.metadata },
    actor: request.actor,
  }
}

/** The holder's wallets together, as the receipt shows them. */
function balanceOf(wallets: AccountRow[]) {
  let balance = 0
  for (const wallet of wallets) balance += shownBalance(wallet.normalSide, wallet.balance)
  return balance
}

/** The payment rows of booked code payments; their public ids, in order. */
function insertPaymentRows(
  sql: SqlStatements,
  rows: { request: ShopRequest; transferId: number }[]
): Promise<string[]> {
  return insertMerchantPayments(
    sql,
    rows.map(({ request, transferId }) => ({
      transferId,
      merchantId: request.payee.merchantId,
      shopId: request.payee.shopId,
      personId: request.personId,
      cardId: request.cardId,
      channel: request.channel,
      amount: request.amount,
      paidAtMs: request.at.toMillis(),
    }))
  )
}

function bookedOutcome(
  request: ShopRequest,
  holder: CodeHolder,
  transfer: BookedShopPayment['transfer'],
  paymentId: string,
  balanceAfter: number
): CodeBookingOutcome {
  return {
    kind: 'booked',
    holder,
    booked: {
      transfer,
      payment: {
        publicId: paymentId,
        channel: request.channel,
        amount: request.amount,
        refunded: 0,
      },
      legs: [{ wallet: 'cash', amount: request.amount }],
      balanceAfter,
    },
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
  const booked = await writeLockedTransfer(
    sql,
    paymentTransfer(request, plan.wallet, merchant),
    new Map([
      [plan.wallet.id, plan.wallet],
      [merchant.id, merchant],
    ])
  )
  if (!booked.ok) return refused(booked)
  const [paymentId] = await insertPaymentRows(sql, [{ request, transferId: booked.value.id }])
  return bookedOutcome(request, holder, booked.value, paymentId, balanceOf(plan.wallets))
}

/** `?, ?, …` for n parameters. */
function marks(count: number) {
  return Array.from({ length: count }, () => '?').join(', ')
}

/**
 * The rows of a query over distinct pairs of texts, given as `(VALUES …) AS v`
 * (columns v.column1 and v.column2), in groups (inGroups).
 */
async function rowsForPairs(
  sql: SqlStatements,
  query: (values: string) => string,
  pairs: [string, string][]
) {
  const distinct = [...new Map(pairs.map((pair) => [pair.join('\n'), pair])).values()]
  const rows: Record<string, any>[] = []
  for (const group of inGroups(distinct)) {
    const values = `(VALUES ${group.map(() => '(CAST(? AS TEXT), CAST(? AS TEXT))').join(', ')}) AS v`
    rows.push(...(await sql.all(query(values), group.flat())))
  }
  return rows
}

/** A request on its way through bookBatch. */
interface Pending {
  index: number
  request: CodeBookingRequest
  payee: Payee
  holder: CodeHolder | null
}

/**
 * The code payments of one group commit booked together: what bookInUnit
 * does for one, in a few statements for all of them (docs/adr/0013). Reads:
 * the shops, the keys already booked, the cards with their holders and the
 * blacklist, then one claim of every code, then every holder's wallets and
 * every merchant's account (locked), and the day's spending. The payments
 * the holder's cash pays are staged over the locked rows in arrival order
 * and written as multi-row statements (plain_transfers.ts).
 *
 * The outcomes are those of a serial order: the staged payments first, in
 * arrival order; then, one at a time, those the general path books (subsidy
 * or voucher money, a merchant's first payment: with them every later
 * payment of that holder); then the requests whose key or code an earlier
 * request of the batch carries (a retry racing its first request), each as
 * bookInUnit books one, so they see what was written before them.
 */
async function bookBatch(
  unit: UnitContext,
  requests: CodeBookingRequest[]
): Promise<CodeBookingOutcome[]> {
  const { trx, sql } = unit
  const outcomes: (CodeBookingOutcome | undefined)[] = requests.map(() => undefined)

  // The shops, and the keys booked before: one row per (shop, key).
  const shopRows = await rowsForPairs(
    sql,
    (values) => `SELECT ${PAYEE_COLUMNS}, ledger_transfers.idempotency_key AS booked_key
      FROM ${values}
      LEFT JOIN shops ON shops.public_id = v.column1
      LEFT JOIN merchants ON merchants.id = shops.merchant_id
      LEFT JOIN ledger_transfers ON ledger_transfers.idempotency_key = v.column2`,
    requests.map((request) => [request.shopPublicId, request.idempotencyKey])
  )
  const shops = new Map<string, Record<string, any>>()
  const bookedKeys = new Set<string>()
  for (const row of shopRows) {
    if (row.id !== null && row.merchant_id !== null) shops.set(row.public_id, row)
    if (row.booked_key !== null) bookedKeys.add(row.booked_key)
  }
  const repeats: number[] = []
  const keys = new Set<string>()
  const codes = new Set<string>()
  let pending: Pending[] = []
  for (const [index, request] of requests.entries()) {
    const payee = payeeFromRow(shops.get(request.shopPublicId))
    if (!payee.ok) {
      outcomes[index] = refused(payee)
    } else if (request.amount > request.maxPerPayment) {
      outcomes[index] = refused(fail('over_transaction_limit', { limit: request.maxPerPayment }))
    } else if (bookedKeys.has(request.idempotencyKey)) {
      outcomes[index] = { kind: 'existing', payee: payee.value }
    } else if (keys.has(request.idempotencyKey) || codes.has(request.code.codeId)) {
      repeats.push(index)
    } else {
      keys.add(request.idempotencyKey)
      codes.add(request.code.codeId)
      pending.push({ index, request, payee: payee.value, holder: null })
    }
  }

  // The cards, their holders and the blacklist (card and phone): one row per (card, phone).
  const deviceKeys = new Map(
    pending.map((item) => [item, toHex(item.request.code.credential.devicePublicKey)])
  )
  const holderRows = await rowsForPairs(
    sql,
    (values) => `SELECT v.column1 AS code_card_no, v.column2 AS code_device_key,
        ${CODE_HOLDER_COLUMNS},
        (SELECT card_blacklist.id FROM card_blacklist WHERE card_blacklist.kind = 'device'
          AND card_blacklist.device_key = v.column2 AND card_blacklist.removed_version IS NULL
          LIMIT 1) AS device_listed_id
      FROM ${values}
      LEFT JOIN cards ON cards.card_no = v.column1
      LEFT JOIN people ON people.id = cards.person_id
      LEFT JOIN card_types ON card_types.id = cards.card_type_id
      LEFT JOIN org_units ON org_units.id = people.org_unit_id`,
    pending.map((item) => [item.request.code.cardNo, deviceKeys.get(item)!])
  )
  const holders = new Map<string, Record<string, any>>()
  const listedDevices = new Set<string>()
  for (const row of holderRows) {
    if (row.id !== null) holders.set(row.code_card_no, row)
    if (row.device_listed_id !== null) listedDevices.add(row.code_device_key)
  }
  pending = pending.filter((item) => {
    item.holder = holderFromRow(holders.get(item.request.code.cardNo))
    if (!item.holder?.listed && !listedDevices.has(deviceKeys.get(item)!)) return true
    outcomes[item.index] = refused(fail('card_blacklisted', { cardNo: item.request.code.cardNo }))
    return false
  })

  // Each code claimed once: a code the store holds already is a replay.
  const claimed = new Set<string>()
  for (const group of inGroups(pending)) {
    const rows = await sql.all<{ code_id: string }>(
      `INSERT INTO card_seen_codes (code_id, card_id, card_no, first_seen_at, first_seen_by, expires_at)
       VALUES ${group.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')}
       ON CONFLICT (code_id) DO NOTHING RETURNING code_id`,
      group.flatMap(({ request, holder }) => [
        request.code.codeId,
        holder?.cardId ?? null,
        request.code.cardNo,
        dbTimeOfMillis(request.now * 1000, sql.dialect),
        request.verifier.slice(0, MAX_VERIFIER_LENGTH),
        dbTimeOfMillis(request.code.acceptUntil * 1000, sql.dialect),
      ])
    )
    for (const row of rows) claimed.add(row.code_id)
  }
  pending = pending.filter(({ index, request, payee, holder }) => {
    if (!claimed.has(request.code.codeId)) outcomes[index] = { kind: 'replayed', payee }
    else if (!holder) outcomes[index] = refused(fail('card_not_found'))
    else if (holder.cardState !== 'active')
      outcomes[index] = refused(
        fail(CARD_STATE_ERRORS[holder.cardState] ?? 'card_not_active', { cardNo: holder.cardNo })
      )
    else return true
    return false
  })

  // The holders' wallets and the merchants' accounts, locked; the day's spending.
  const locked = await lockAccounts(
    sql,
    pending.map((item) => item.holder!.personId),
    pending.map((item) => item.payee.merchantId)
  )
  const { spendingOrder } = await walletSettings(trx)
  const spent = await daySpending(sql, pending)

  const staged: { item: Pending; shop: ShopRequest; transfer: StagedTransfer; balance: number }[] =
    []
  const general: Pending[] = []
  const generalHolders = new Set<number>()
  for (const item of pending) {
    const { index, request, payee } = item
    const holder = item.holder!
    const wallets = locked.wallets.get(holder.personId) ?? []
    const plan = generalHolders.has(holder.personId)
      ? null
      : cashOnlyPlanOf(wallets, request.amount, spendingOrder)
    const merchant = locked.merchants.get(payee.merchantId)
    if (!plan || !merchant) {
      // Subsidy or voucher money, no cash wallet yet, or the merchant's first payment.
      general.push(item)
      generalHolders.add(holder.personId)
      continue
    }
    if (plan.shortfall > 0) {
      outcomes[index] = refused(
        fail('insufficient_funds', {
          available: request.amount - plan.shortfall,
          requested: request.amount,
        })
      )
      continue
    }
    const day = `${holder.personId}:${dayStartOf(request.at).toMillis()}`
    const spentToday = spent.get(day) ?? 0
    if (spentToday + request.amount > request.maxPerDay) {
      outcomes[index] = refused(
        fail('over_daily_limit', {
          limit: request.maxPerDay,
          spent: spentToday,
          requested: request.amount,
        })
      )
      continue
    }
    const shop = shopRequestOf(request, payee, holder)
    const transfer = stageLockedTransfer(paymentTransfer(shop, plan.wallet, merchant), locked.byId)
    if (!transfer.ok) {
      outcomes[index] = refused(transfer)
      continue
    }
    spent.set(day, spentToday + request.amount)
    staged.push({ item, shop, transfer: transfer.value, balance: balanceOf(plan.wallets) })
  }

  const booked = await writeStagedTransfers(
    sql,
    staged.map((entry) => entry.transfer),
    locked.byId
  )
  const paymentIds = await insertPaymentRows(
    sql,
    staged.map((entry, position) => ({ request: entry.shop, transferId: booked[position].id }))
  )
  for (const [position, entry] of staged.entries())
    outcomes[entry.item.index] = bookedOutcome(
      entry.shop,
      entry.item.holder!,
      booked[position],
      paymentIds[position],
      entry.balance
    )

  for (const { index, request, payee, holder } of general)
    outcomes[index] = await generalPath(trx, shopRequestOf(request, payee, holder!), holder!)
  for (const index of repeats) outcomes[index] = await bookInUnit(unit, requests[index])
  return outcomes as CodeBookingOutcome[]
}

/**
 * What each holder paid by campus code from the start of the school's day
 * of each payment, keyed `person:dayStartMillis` (one statement per day the
 * payments fall in, nearly always one).
 */
async function daySpending(sql: SqlStatements, pending: Pending[]) {
  const days = new Map<number, Set<number>>()
  for (const { request, holder } of pending) {
    const start = dayStartOf(request.at).toMillis()
    const people = days.get(start) ?? new Set<number>()
    people.add(holder!.personId)
    days.set(start, people)
  }
  const spent = new Map<string, number>()
  for (const [start, people] of days) {
    for (const group of inGroups([...people])) {
      const rows = await sql.all<{ person_id: unknown; total: unknown }>(
        `SELECT person_id, COALESCE(SUM(amount), 0) AS total FROM merchant_payments
         WHERE channel = 'campus_code' AND paid_at >= ? AND person_id IN (${marks(group.length)})
         GROUP BY person_id`,
        [dbTimeOfMillis(start, sql.dialect), ...group]
      )
      for (const row of rows) spent.set(`${Number(row.person_id)}:${start}`, fenFromDb(row.total))
    }
  }
  return spent
}
