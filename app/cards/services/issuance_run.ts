import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import { recordAudit } from '#core/services/audit'
import Audience from '#identity/models/audience'
import CardIssuance, {
  MAX_KEPT_ERRORS,
  type IssuanceRowError,
  type ListedPerson,
} from '#cards/models/card_issuance'
import type CardType from '#cards/models/card_type'
import { eligibilityOf, type Eligibility } from '#cards/services/eligibility'
import { insertCard } from '#cards/services/card_issuing'
import { recordCardEvents, type CardEventInput } from '#cards/services/card_history'
import { computeValidity } from '#cards/services/validity'
import { PERSON_NO } from '#cards/services/person_lists'
import { schoolZone } from '#cards/services/school_zone'
import { dbDateTime } from '#cards/services/db_time'

/** People issued per transaction (and per audit entry). */
export const BATCH_SIZE = 200

export interface IssuanceSummary {
  status: 'succeeded' | 'failed' | 'not_found' | 'finished_before'
  issued: number
  skipped: number
  errors: number
}

interface Run {
  issuance: CardIssuance
  type: CardType
  zone: string
  errors: IssuanceRowError[]
  processed: number
  done: number
  issuedNow: number
}

/**
 * Runs a queued issuance. Each batch of people commits on its own with its
 * cards, their history, an audit entry and the progress, so the console
 * shows progress as it goes and a crash loses nothing. A rerun walks the
 * whole target again: people who got their card the first time are
 * skipped by the one-live-card rule, and the final counts are taken from
 * the cards themselves.
 */
export async function runIssuance(
  publicId: string,
  options: { lastAttempt?: boolean } = {}
): Promise<IssuanceSummary> {
  const issuance = await CardIssuance.query()
    .where('public_id', publicId)
    .preload('cardType')
    .first()
  if (!issuance) return { status: 'not_found', issued: 0, skipped: 0, errors: 0 }
  if (!issuance.inProgress)
    return {
      status: 'finished_before',
      issued: issuance.issuedCount,
      skipped: issuance.skippedCount,
      errors: issuance.errorCount,
    }
  const type = issuance.cardType
  await issuance
    .merge({
      status: 'running',
      startedAt: issuance.startedAt ?? DateTime.utc(),
      doneCount: 0,
      issuedCount: 0,
      skippedCount: 0,
      errorCount: 0,
    })
    .save()
  const run: Run = {
    issuance,
    type,
    zone: await schoolZone(),
    errors: [],
    processed: 0,
    done: 0,
    issuedNow: 0,
  }
  try {
    if (!type.enabled) return await finish(run, 'failed')
    if (issuance.target === 'list') await walkList(run, issuance.targets ?? [])
    else await walkEligible(run)
    return await finish(run, 'succeeded')
  } catch (error) {
    // The last attempt leaves the issuance failed rather than running forever.
    if (options.lastAttempt) await finish(run, 'failed')
    throw error
  }
}

/** The people the issuance targets among those eligible. */
async function targetOf(run: Run): Promise<Eligibility> {
  let narrowTo: Audience | null = null
  if (run.issuance.target === 'audience') {
    narrowTo = await Audience.find(run.issuance.audienceId ?? 0)
    // The audience is gone: select nobody rather than everyone eligible.
    if (!narrowTo) return { query: () => db.from('people').select('people.id').whereRaw('1 = 0') }
  }
  return eligibilityOf(run.type, db.connection(), narrowTo)
}

async function walkEligible(run: Run) {
  const target = await targetOf(run)
  const counted = await db.query().from(target.query().as('targeted')).count('* as total').first()
  run.issuance.totalCount = Number(counted?.total ?? 0)
  await run.issuance.save()
  let after = 0
  while (true) {
    const rows = await target
      .query()
      .where('people.id', '>', after)
      .orderBy('people.id')
      .limit(BATCH_SIZE)
    if (rows.length === 0) return
    const ids = rows.map((row) => Number(row.id))
    await issueBatch(
      run,
      ids.map((id) => ({ personId: id, line: 0 })),
      ids.length
    )
    after = ids[ids.length - 1]
    if (ids.length < BATCH_SIZE) return
  }
}

async function walkList(run: Run, listed: ListedPerson[]) {
  const target = await targetOf(run)
  const seen = new Set<string>()
  for (let start = 0; start < listed.length; start += BATCH_SIZE) {
    const slice = listed.slice(start, start + BATCH_SIZE)
    const wanted: ListedPerson[] = []
    for (const entry of slice) {
      if (!PERSON_NO.test(entry.personNo)) run.errors.push({ ...entry, code: 'invalid_person_no' })
      else if (seen.has(entry.personNo)) run.errors.push({ ...entry, code: 'duplicate' })
      else {
        seen.add(entry.personNo)
        wanted.push(entry)
      }
    }
    const people = wanted.length
      ? await db
          .from('people')
          .whereIn(
            'person_no',
            wanted.map((entry) => entry.personNo)
          )
          .select('id', 'person_no')
      : []
    const idByNo = new Map(people.map((row) => [row.person_no as string, Number(row.id)]))
    const eligibleRows = idByNo.size
      ? await target.query().whereIn('people.id', [...idByNo.values()])
      : []
    const eligible = new Set(eligibleRows.map((row) => Number(row.id)))
    const batch: { personId: number; line: number }[] = []
    for (const entry of wanted) {
      const id = idByNo.get(entry.personNo)
      if (id === undefined) run.errors.push({ ...entry, code: 'unknown_person' })
      else if (!eligible.has(id)) run.errors.push({ ...entry, code: 'not_eligible' })
      else batch.push({ personId: id, line: entry.line })
    }
    await issueBatch(run, batch, slice.length)
  }
}

/** Issues cards to one batch of eligible people in one transaction; `advance` is the progress it makes. */
async function issueBatch(run: Run, batch: { personId: number; line: number }[], advance: number) {
  await db.transaction(async (trx) => {
    const now = DateTime.utc().set({ millisecond: 0 })
    const people = batch.length
      ? await trx
          .from('people')
          .whereIn(
            'id',
            batch.map((entry) => entry.personId)
          )
          .select('id', 'person_no', 'expected_graduation_date')
      : []
    const byId = new Map(people.map((row) => [Number(row.id), row]))
    const events: CardEventInput[] = []
    const issued: string[] = []
    for (const entry of batch) {
      const person = byId.get(entry.personId)
      if (!person) continue
      run.processed += 1
      const validity = computeValidity(run.type.validity, {
        now,
        zone: run.zone,
        expectedGraduationDate: readDate(person.expected_graduation_date),
        window:
          run.issuance.validFrom && run.issuance.validUntil
            ? { from: run.issuance.validFrom, until: run.issuance.validUntil }
            : null,
      })
      if (!validity.ok) {
        run.errors.push({ line: entry.line, personNo: person.person_no, code: 'validity' })
        continue
      }
      const card = await insertCard(
        trx,
        {
          personId: entry.personId,
          cardTypeId: run.type.id,
          issuanceId: run.issuance.id,
          ...validity.value,
        },
        now
      )
      if (!card) continue
      issued.push(card.cardNo)
      events.push({
        cardId: card.id,
        event: 'issued',
        to: 'pending_activation',
        details: { issuance: run.issuance.publicId },
      })
    }
    const actor = run.issuance.actor
    await recordCardEvents(trx, actor, events, now)
    if (issued.length > 0) {
      await recordAudit(
        actor,
        {
          action: 'cards.issued',
          subjectType: 'card_issuance',
          subjectId: run.issuance.publicId,
          after: { type: run.type.code, count: issued.length, cards: issued },
        },
        trx
      )
    }
    run.done += advance
    run.issuedNow += issued.length
    await progress(trx, run)
  })
}

function readDate(value: unknown): DateTime | null {
  if (!value) return null
  if (value instanceof Date) return DateTime.fromJSDate(value, { zone: 'utc' })
  const date = DateTime.fromISO(String(value).slice(0, 10), { zone: 'utc' })
  return date.isValid ? date : null
}

async function progress(trx: TransactionClientContract, run: Run) {
  await trx
    .from('card_issuances')
    .where('id', run.issuance.id)
    .update({
      done_count: run.done,
      issued_count: run.issuedNow,
      skipped_count: run.processed - run.issuedNow - countValidityErrors(run),
      error_count: run.errors.length,
      updated_at: dbDateTime(DateTime.utc(), trx),
    })
}

function countValidityErrors(run: Run) {
  return run.errors.filter((error) => error.code === 'validity').length
}

/** Writes the outcome, counted from the cards themselves, and its audit entry. */
async function finish(run: Run, status: 'succeeded' | 'failed'): Promise<IssuanceSummary> {
  return db.transaction(async (trx) => {
    const counted = await trx
      .from('cards')
      .where('issuance_id', run.issuance.id)
      .count('* as total')
      .first()
    const issued = Number(counted?.total ?? 0)
    const skipped = Math.max(0, run.processed - countValidityErrors(run) - issued)
    const errors = run.errors.toSorted((a, b) => a.line - b.line)
    const issuance = await CardIssuance.query({ client: trx })
      .where('id', run.issuance.id)
      .forUpdate()
      .firstOrFail()
    issuance.useTransaction(trx)
    // People added to the registry during the walk may make the count taken at the start differ.
    const total =
      status === 'succeeded' && issuance.target !== 'list' ? run.done : issuance.totalCount
    issuance.merge({
      status,
      totalCount: total,
      doneCount: status === 'succeeded' ? total : run.done,
      issuedCount: issued,
      skippedCount: skipped,
      errorCount: errors.length,
      errors: errors.slice(0, MAX_KEPT_ERRORS),
      finishedAt: DateTime.utc(),
    })
    await issuance.save()
    await recordAudit(
      run.issuance.actor,
      {
        action: 'cards.issuance_finished',
        subjectType: 'card_issuance',
        subjectId: issuance.publicId,
        outcome: status === 'succeeded' ? 'success' : 'failure',
        after: { status, issued, skipped, errors: errors.length },
      },
      trx
    )
    return { status, issued, skipped, errors: errors.length }
  })
}
