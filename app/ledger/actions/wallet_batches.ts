/**
 * Subsidy (补贴) and meal-voucher (餐券) batches: created for an audience or
 * an uploaded list of person numbers, issued from the subsidy_funding
 * account into each person's subsidy or voucher wallet (one transfer per
 * person, keyed by batch and person, so a rerun books nobody twice), and
 * swept back to funding when they expire.
 */
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { QueryClientContract } from '@adonisjs/lucid/types/database'
import { enqueue } from '#appliance/services/jobs'
import { recordAudit, SYSTEM_ACTOR, type AuditActor } from '#core/services/audit'
import { newPublicId } from '#core/services/ids'
import { fail, ok, type Result } from '#core/services/result'
import Audience from '#identity/models/audience'
import { IDENTITY_TYPES } from '#identity/models/person'
import { resolveAudience } from '#identity/services/audience_resolver'
import { PostTransfer } from '#ledger/actions/post_transfer'
import { dbTime, systemAccount, walletFor } from '#ledger/services/accounts'
import { fenFromDb } from '#ledger/services/money'
import { settleLots, takeFromLots, type LotKind } from '#ledger/services/wallet_lots'
import { MEALS, type Meal } from '#ledger/services/wallet_settings'

export type BatchKind = LotKind

/** ¥5,000.00 per person per batch: more than any school's monthly subsidy. */
export const MAX_AMOUNT_PER_PERSON = 500_000
export const MAX_MEALS_PER_PERSON = 200
export const MAX_MEAL_VALUE = 10_000
export const MAX_LIST_ROWS = 50_000
const PERSON_NO = /^[A-Z0-9][A-Z0-9_-]{0,31}$/

export interface BatchInput {
  kind: BatchKind
  name: string
  /** An audience's public id, or the text of a list (one person number a line). */
  audience?: string | null
  personNumbers?: string | null
  /** Subsidies: fen per person. */
  amountPerPerson?: number | null
  /** Vouchers: meals per person and the most one meal may cost. */
  mealsPerPerson?: number | null
  mealValue?: number | null
  mealWindows?: Meal[]
  merchantCategories?: string[]
  merchantIds?: number[]
  identityTypes?: string[]
  /** Minutes after midnight (school time). */
  timeFrom?: number | null
  timeTo?: number | null
  expiresAt: DateTime
  memo?: string | null
  actor: AuditActor
}

export interface BrokenRow {
  line: number
  value: string
  problem: 'malformed' | 'duplicate' | 'unknown_person' | 'person_left'
}

export type BatchError =
  | 'invalid_name'
  | 'invalid_kind'
  | 'amount_out_of_range'
  | 'meals_out_of_range'
  | 'invalid_meal_windows'
  | 'invalid_identity_types'
  | 'invalid_time_window'
  | 'invalid_expiry'
  | 'no_source'
  | 'unknown_audience'
  | 'broken_rows'
  | 'no_recipients'
  | 'too_many_rows'

interface Recipients {
  source: 'audience' | 'list'
  audienceId: number | null
  numbers: string[] | null
  count: number
}

/** The people a list names, or the rows that are wrong (then nobody is issued anything). */
export async function readPersonList(
  text: string,
  client: QueryClientContract = db.connection()
): Promise<Result<{ numbers: string[]; ids: number[] }, 'broken_rows' | 'too_many_rows'>> {
  const lines = text.split(/\r?\n/)
  if (lines.length > MAX_LIST_ROWS) return fail('too_many_rows', { rows: [] })
  const broken: BrokenRow[] = []
  const seen = new Map<string, number>()
  lines.forEach((raw, index) => {
    // A row may carry more columns (name, class): the number is the first.
    const value = raw
      .split(/[,;\t，；]/)[0]
      .trim()
      .toUpperCase()
    if (value === '' || (index === 0 && /^(person_?no|学工号|工号|学号)$/i.test(value))) return
    if (!PERSON_NO.test(value))
      broken.push({ line: index + 1, value: value.slice(0, 40), problem: 'malformed' })
    else if (seen.has(value)) broken.push({ line: index + 1, value, problem: 'duplicate' })
    else seen.set(value, index + 1)
  })
  const numbers = [...seen.keys()]
  const found = new Map<string, { id: number; status: string }>()
  for (let start = 0; start < numbers.length; start += 500) {
    const rows = await client
      .from('people')
      .whereIn('person_no', numbers.slice(start, start + 500))
      .select('id', 'person_no', 'status')
    for (const row of rows)
      found.set(String(row.person_no).toUpperCase(), { id: Number(row.id), status: row.status })
  }
  for (const [value, line] of seen) {
    const person = found.get(value)
    if (!person) broken.push({ line, value, problem: 'unknown_person' })
    else if (person.status === 'left') broken.push({ line, value, problem: 'person_left' })
  }
  if (broken.length > 0) {
    broken.sort((a, b) => a.line - b.line)
    return fail('broken_rows', { rows: broken.slice(0, 500) })
  }
  return ok({ numbers, ids: numbers.map((value) => found.get(value)!.id) })
}

/** Who a batch would reach: a count, or what is wrong with the source. */
export async function previewRecipients(
  input: Pick<BatchInput, 'audience' | 'personNumbers'>
): Promise<Result<Recipients, BatchError>> {
  if (input.audience) {
    const audience = await Audience.query()
      .where('public_id', String(input.audience).toUpperCase())
      .whereNull('archived_at')
      .first()
    if (!audience) return fail('unknown_audience')
    const resolved = resolveAudience(audience)
    const count = await db
      .from('people')
      .whereIn('id', resolved.idsQuery())
      .whereNot('status', 'left')
      .count('* as total')
      .first()
    const total = Number(count?.total ?? 0)
    if (total === 0) return fail('no_recipients')
    return ok({ source: 'audience', audienceId: audience.id, numbers: null, count: total })
  }
  if (input.personNumbers && input.personNumbers.trim() !== '') {
    const list = await readPersonList(input.personNumbers)
    if (!list.ok) return list
    if (list.value.numbers.length === 0) return fail('no_recipients')
    return ok({
      source: 'list',
      audienceId: null,
      numbers: list.value.numbers,
      count: list.value.numbers.length,
    })
  }
  return fail('no_source')
}

function validMinutes(value: number | null | undefined) {
  return (
    value === null ||
    value === undefined ||
    (Number.isInteger(value) && value >= 0 && value <= 24 * 60)
  )
}

/** Creates a batch (a draft: nothing is booked until it is issued). */
export class CreateWalletBatch {
  async handle(
    input: BatchInput
  ): Promise<Result<{ publicId: string; recipients: number }, BatchError>> {
    if (input.kind !== 'subsidy' && input.kind !== 'voucher') return fail('invalid_kind')
    const name = input.name?.trim() ?? ''
    if (name.length < 1 || name.length > 100) return fail('invalid_name')
    let amount: number
    let meals: number | null = null
    let mealValue: number | null = null
    if (input.kind === 'subsidy') {
      amount = input.amountPerPerson ?? 0
      if (!Number.isSafeInteger(amount) || amount < 1 || amount > MAX_AMOUNT_PER_PERSON)
        return fail('amount_out_of_range')
    } else {
      meals = input.mealsPerPerson ?? 0
      mealValue = input.mealValue ?? 0
      if (!Number.isSafeInteger(meals) || meals < 1 || meals > MAX_MEALS_PER_PERSON)
        return fail('meals_out_of_range')
      if (!Number.isSafeInteger(mealValue) || mealValue < 1 || mealValue > MAX_MEAL_VALUE)
        return fail('amount_out_of_range')
      amount = meals * mealValue
    }
    const windows = input.mealWindows ?? []
    if (!windows.every((meal) => (MEALS as readonly string[]).includes(meal)))
      return fail('invalid_meal_windows')
    const identities = input.identityTypes ?? []
    if (!identities.every((type) => (IDENTITY_TYPES as readonly string[]).includes(type)))
      return fail('invalid_identity_types')
    if (!validMinutes(input.timeFrom) || !validMinutes(input.timeTo))
      return fail('invalid_time_window')
    if (
      (input.timeFrom ?? null) !== null &&
      (input.timeTo ?? null) !== null &&
      input.timeFrom! >= input.timeTo!
    )
      return fail('invalid_time_window')
    if (!input.expiresAt?.isValid || input.expiresAt <= DateTime.utc())
      return fail('invalid_expiry')

    const recipients = await previewRecipients(input)
    if (!recipients.ok) return recipients

    const publicId = newPublicId()
    await db.transaction(async (trx) => {
      const now = dbTime(trx)
      await trx
        .insertQuery()
        .table('wallet_batches')
        .insert({
          public_id: publicId,
          kind: input.kind,
          name,
          status: 'draft',
          source: recipients.value.source,
          audience_id: recipients.value.audienceId,
          person_numbers: recipients.value.numbers
            ? JSON.stringify(recipients.value.numbers)
            : null,
          amount_per_person: amount,
          meals_per_person: meals,
          meal_value: mealValue,
          meal_windows: JSON.stringify(windows),
          merchant_categories: JSON.stringify(input.merchantCategories ?? []),
          merchant_ids: JSON.stringify(input.merchantIds ?? []),
          identity_types: JSON.stringify(identities),
          time_from: input.timeFrom ?? null,
          time_to: input.timeTo ?? null,
          expires_at: dbTime(trx, input.expiresAt),
          memo: input.memo?.trim().slice(0, 255) || null,
          recipients: recipients.value.count,
          created_by: input.actor.id ?? null,
          created_at: now,
          updated_at: now,
        })
      await recordAudit(
        input.actor,
        {
          action: `ledger.${input.kind}_batch_created`,
          subjectType: 'wallet_batch',
          subjectId: publicId,
          after: {
            name,
            kind: input.kind,
            amountPerPerson: amount,
            meals,
            mealValue,
            recipients: recipients.value.count,
            expiresAt: input.expiresAt.toISO(),
          },
        },
        trx
      )
    })
    return ok({ publicId, recipients: recipients.value.count })
  }
}

interface BatchRow {
  id: number
  public_id: string
  kind: BatchKind
  status: string
  source: string
  audience_id: number | null
  person_numbers: string | null
  amount_per_person: unknown
  meals_per_person: number | null
  expires_at: unknown
}

async function findBatch(
  publicId: string,
  client: QueryClientContract = db.connection()
): Promise<BatchRow | null> {
  const row = await client
    .from('wallet_batches')
    .where('public_id', String(publicId).toUpperCase())
    .first()
  return (row as BatchRow | undefined) ?? null
}

/** Starts issuing a draft batch: the worker books it person by person (or now, `inline`). */
export class IssueWalletBatch {
  async handle(input: {
    batch: string
    actor: AuditActor
    inline?: boolean
  }): Promise<Result<{ publicId: string }, 'unknown_batch' | 'not_draft' | 'expired'>> {
    const batch = await findBatch(input.batch)
    if (!batch) return fail('unknown_batch')
    if (batch.status !== 'draft') return fail('not_draft')
    const changed = await db.transaction(async (trx) => {
      const updated = await trx
        .from('wallet_batches')
        .where('id', batch.id)
        .where('status', 'draft')
        .update({ status: 'issuing', updated_at: dbTime(trx) })
      if (Number(Array.isArray(updated) ? updated[0] : updated) !== 1) return false
      await recordAudit(
        input.actor,
        {
          action: `ledger.${batch.kind}_batch_issued`,
          subjectType: 'wallet_batch',
          subjectId: batch.public_id,
        },
        trx
      )
      if (!input.inline) {
        const { issueWalletBatchJob } = await import('#ledger/services/wallet_jobs')
        await enqueue(issueWalletBatchJob, { batch: batch.public_id }, { trx, priority: 5 })
      }
      return true
    })
    if (!changed) return fail('not_draft')
    if (input.inline) await runWalletBatch(batch.public_id)
    return ok({ publicId: batch.public_id })
  }
}

/** The batch's people, in id order, a page at a time. */
async function* recipientIds(batch: BatchRow): AsyncGenerator<number[]> {
  if (batch.source === 'audience') {
    const audience = await Audience.find(batch.audience_id)
    if (!audience) return
    yield* resolveAudience(audience).ids(500)
    return
  }
  const numbers: string[] = JSON.parse(batch.person_numbers ?? '[]')
  for (let start = 0; start < numbers.length; start += 500) {
    const rows = await db
      .from('people')
      .whereIn('person_no', numbers.slice(start, start + 500))
      .orderBy('id')
      .select('id')
    yield rows.map((row) => Number(row.id))
  }
}

export interface BatchRunSummary {
  issued: number
  failed: number
  total: number
}

/**
 * Books a batch for everyone it names. Each person is one transaction (the
 * transfer, the lot, the result row), keyed by batch and person: a rerun
 * after a crash books nobody twice. Progress is written as it goes.
 */
export async function runWalletBatch(publicId: string): Promise<BatchRunSummary> {
  const batch = await findBatch(publicId)
  if (!batch || batch.status !== 'issuing') return { issued: 0, failed: 0, total: 0 }
  const amount = fenFromDb(batch.amount_per_person)
  const wallet = batch.kind === 'subsidy' ? 'subsidy' : 'voucher'
  const funding = await systemAccount('subsidy_funding')
  const post = new PostTransfer()

  for await (const ids of recipientIds(batch)) {
    const people = await db.from('people').whereIn('id', ids).select('id', 'status', 'public_id')
    for (const person of people) {
      const personId = Number(person.id)
      const done = await db
        .from('wallet_batch_recipients')
        .where({ batch_id: batch.id, person_id: personId, status: 'issued' })
        .first()
      if (done) continue
      if (person.status === 'left') {
        await recordRecipient(batch.id, personId, amount, 'failed', 'person_left', null)
        continue
      }
      const account = await walletFor(personId, wallet)
      let outcome: {
        status: 'issued' | 'failed'
        error: string | null
        transferId: number | null
      } = {
        status: 'failed',
        error: null,
        transferId: null,
      }
      await db.transaction(async (trx) => {
        const booked = await post.handle(
          {
            idempotencyKey: `wallet-batch:${batch.public_id}:${person.public_id}`,
            kind: batch.kind === 'subsidy' ? 'subsidy_issue' : 'voucher_issue',
            postings: [
              { account: funding, amount: -amount },
              { account, amount },
            ],
            metadata: { batch: batch.public_id, person: person.public_id },
            actor: SYSTEM_ACTOR,
            audit: false,
          },
          trx
        )
        if (!booked.ok) {
          outcome = { status: 'failed', error: booked.error, transferId: null }
          return
        }
        const now = dbTime(trx)
        await trx
          .insertQuery()
          .table('wallet_lots')
          .insert({
            batch_id: batch.id,
            person_id: personId,
            account_id: account.id,
            kind: batch.kind,
            issued: amount,
            remaining: amount,
            meals_left: batch.kind === 'voucher' ? batch.meals_per_person : null,
            expires_at: dbTime(trx, DateTime.fromMillis(timeOf(batch.expires_at), { zone: 'utc' })),
            issue_transfer_id: booked.value.id,
            created_at: now,
            updated_at: now,
          })
          .onConflict(['batch_id', 'person_id'])
          .ignore()
        outcome = { status: 'issued', error: null, transferId: booked.value.id }
        await writeRecipient(trx, batch.id, personId, amount, 'issued', null, booked.value.id)
      })
      if (outcome.status === 'failed')
        await recordRecipient(batch.id, personId, amount, 'failed', outcome.error, null)
    }
    await refreshCounts(batch.id, false)
  }
  const summary = await refreshCounts(batch.id, true)
  await recordAudit(SYSTEM_ACTOR, {
    action: `ledger.${batch.kind}_batch_finished`,
    subjectType: 'wallet_batch',
    subjectId: batch.public_id,
    after: { ...summary },
  })
  return summary
}

function timeOf(value: unknown): number {
  if (value instanceof Date) return value.getTime()
  return DateTime.fromSQL(String(value), { zone: 'utc' }).toMillis()
}

async function writeRecipient(
  client: QueryClientContract,
  batchId: number,
  personId: number,
  amount: number,
  status: 'issued' | 'failed',
  error: string | null,
  transferId: number | null
) {
  await client
    .insertQuery()
    .table('wallet_batch_recipients')
    .insert({
      batch_id: batchId,
      person_id: personId,
      status,
      error,
      amount,
      transfer_id: transferId,
      updated_at: dbTime(client),
    })
    .onConflict(['batch_id', 'person_id'])
    .merge(['status', 'error', 'transfer_id', 'updated_at'])
}

function recordRecipient(
  batchId: number,
  personId: number,
  amount: number,
  status: 'issued' | 'failed',
  error: string | null,
  transferId: number | null
) {
  return writeRecipient(db.connection(), batchId, personId, amount, status, error, transferId)
}

async function refreshCounts(batchId: number, finished: boolean): Promise<BatchRunSummary> {
  const rows = await db
    .from('wallet_batch_recipients')
    .where('batch_id', batchId)
    .groupBy('status')
    .select('status')
    .count('* as total')
    .sum('amount as amount')
  let issued = 0
  let failed = 0
  let issuedTotal = 0
  for (const row of rows) {
    if (row.status === 'issued') {
      issued = Number(row.total)
      issuedTotal = fenFromDb(row.amount)
    } else failed = Number(row.total)
  }
  const changes: Record<string, unknown> = {
    issued_count: issued,
    failed_count: failed,
    issued_total: issuedTotal,
    updated_at: dbTime(db.connection()),
  }
  if (finished) {
    changes.status = 'issued'
    changes.issued_at = dbTime(db.connection())
  }
  await db.from('wallet_batches').where('id', batchId).update(changes)
  return { issued, failed, total: issued + failed }
}

export interface SweepSummary {
  lots: number
  amount: number
  failed: number
}

/**
 * Takes money back to subsidy_funding from lots: expired ones (the job),
 * one batch's (expire now), or one person's (leaving). Each lot is one
 * transaction; the key names the lot and how much it will have had swept,
 * so a rerun books nothing twice and money returned to an expired lot
 * later is swept by the next run.
 */
export async function sweepLots(
  filter: { expiredBy?: DateTime; batchId?: number; personId?: number },
  actor: AuditActor = SYSTEM_ACTOR
): Promise<SweepSummary> {
  const query = db.from('wallet_lots').where('remaining', '>', 0).select('id').orderBy('id')
  if (filter.batchId !== undefined) query.where('batch_id', filter.batchId)
  if (filter.personId !== undefined) query.where('person_id', filter.personId)
  if (filter.expiredBy) {
    const by = dbTime(db.connection(), filter.expiredBy)
    query.where((where) =>
      where
        .where('expires_at', '<=', by)
        // A voucher whose meals are used up: its change goes back now.
        .orWhere((spent) =>
          spent.where('kind', 'voucher').whereNotNull('batch_id').where('meals_left', '<=', 0)
        )
    )
  }
  const lotRows = await query
  const ids = lotRows.map((row) => Number(row.id))
  const funding = await systemAccount('subsidy_funding')
  const post = new PostTransfer()
  const summary: SweepSummary = { lots: 0, amount: 0, failed: 0 }
  for (const id of ids) {
    const swept = await db.transaction(async (trx) => {
      // A write first: on SQLite the transaction takes the write lock before it reads.
      await trx
        .from('wallet_lots')
        .where('id', id)
        .update({ updated_at: dbTime(trx) })
      const lot = await trx.from('wallet_lots').where('id', id).first()
      const account = await trx.from('ledger_accounts').where('id', lot.account_id).first()
      const balance = fenFromDb(account.balance)
      await settleLots(
        trx,
        { id: Number(account.id), personId: Number(lot.person_id), balance },
        lot.kind
      )
      const fresh = await trx.from('wallet_lots').where('id', id).first()
      const amount = fenFromDb(fresh.remaining)
      if (amount <= 0) return 0
      const already = fenFromDb(fresh.swept)
      const booked = await post.handle(
        {
          idempotencyKey: `wallet-sweep:${id}:${already + amount}`,
          kind: fresh.kind === 'voucher' ? 'voucher_expiry' : 'subsidy_expiry',
          postings: [
            { account: Number(account.id), amount: -amount },
            { account: funding, amount },
          ],
          metadata: { lot: id },
          actor,
          audit: false,
        },
        trx
      )
      if (!booked.ok) return -1
      if (booked.value.replayed) return 0
      await takeFromLots(
        trx,
        Number(fresh.person_id),
        booked.value.id,
        [{ lotId: id, amount, meals: 0, mealSlot: null }],
        'sweep'
      )
      await trx
        .from('wallet_lots')
        .where('id', id)
        .update({ swept: already + amount })
      if (fresh.batch_id !== null)
        await trx
          .from('wallet_batches')
          .where('id', fresh.batch_id)
          .update({ swept_total: trx.raw('swept_total + ?', [amount]) })
      return amount
    })
    if (swept < 0) summary.failed += 1
    else if (swept > 0) {
      summary.lots += 1
      summary.amount += swept
    }
  }
  return summary
}

/** The job's sweep: every lot expired by now. */
export function sweepExpiredLots(now: DateTime = DateTime.utc()) {
  return sweepLots({ expiredBy: now })
}

/** Ends a batch now: its expiry becomes now and what is left of it goes back to funding. */
export class ExpireWalletBatch {
  async handle(input: {
    batch: string
    actor: AuditActor
  }): Promise<Result<SweepSummary, 'unknown_batch' | 'not_issued'>> {
    const batch = await findBatch(input.batch)
    if (!batch) return fail('unknown_batch')
    if (batch.status !== 'issued' && batch.status !== 'swept') return fail('not_issued')
    const now = DateTime.utc()
    await db.transaction(async (trx) => {
      await trx
        .from('wallet_batches')
        .where('id', batch.id)
        .update({ status: 'swept', expires_at: dbTime(trx, now), updated_at: dbTime(trx) })
      await trx
        .from('wallet_lots')
        .where('batch_id', batch.id)
        .where('expires_at', '>', dbTime(trx, now))
        .update({ expires_at: dbTime(trx, now) })
    })
    const summary = await sweepLots({ batchId: batch.id }, input.actor)
    await recordAudit(input.actor, {
      action: `ledger.${batch.kind}_batch_swept`,
      subjectType: 'wallet_batch',
      subjectId: batch.public_id,
      after: { ...summary },
    })
    return ok(summary)
  }
}
