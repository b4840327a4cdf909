import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { QueryClientContract } from '@adonisjs/lucid/types/database'
import quadConfig from '#config/quad'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import { readTime } from '#appliance/services/jobs'
import type { ReplayClaim, ReplayFreezePolicy, ReplayGuard } from '#cards/campus_code/replay'
import { FreezeCard } from '#cards/actions/freeze_card'
import { canApply } from '#cards/services/card_rules'
import { lockCard } from '#cards/services/card_lookup'
import { dbDateTime } from '#cards/services/db_time'

/**
 * One-time use of campus codes on the server (docs/campus-code.md §9): the
 * database remembers every accepted code id, so that a code is accepted
 * once across all verifiers and all Quad servers, and records every replay,
 * freezing a card whose codes are replayed too often.
 */

/** The longest verifier label kept (a terminal id, `console:<user>`…). */
export const MAX_VERIFIER_LENGTH = 100

function verifierLabel(verifier: string): string {
  return verifier.slice(0, MAX_VERIFIER_LENGTH)
}

function atSecond(seconds: number): DateTime {
  return DateTime.fromSeconds(seconds, { zone: 'utc' })
}

/** The freeze rule in force: the configuration (QUAD_REPLAY_FREEZE_COUNT / _WINDOW). */
export function replayFreezePolicy(): ReplayFreezePolicy {
  return {
    maxReplays: quadConfig.replayFreeze.maxReplays,
    windowSeconds: quadConfig.replayFreeze.windowSeconds,
  }
}

/**
 * The server's replay guard. A claim is one insert of the code id into
 * card_seen_codes, whose primary key decides between concurrent claims on
 * either database: exactly one insert adds the row, every other finds it
 * there and is a replay. A guard is made per verification, with the label
 * of the verifier and, when known, the card the code names.
 */
export class DatabaseReplayGuard implements ReplayGuard {
  readonly #verifier: string
  readonly #cardIdOf: (cardNo: string) => number | null
  readonly #client: QueryClientContract

  constructor(options: {
    verifier: string
    cardIdOf?: (cardNo: string) => number | null
    client?: QueryClientContract
  }) {
    this.#verifier = verifierLabel(options.verifier)
    this.#cardIdOf = options.cardIdOf ?? (() => null)
    this.#client = options.client ?? db.connection()
  }

  async claim(code: ReplayClaim, now: number): Promise<Result<void, 'code_replayed'>> {
    const client = this.#client
    const rows = await client
      .knexQuery()
      .table('card_seen_codes')
      .insert({
        code_id: code.codeId,
        card_id: this.#cardIdOf(code.cardNo),
        card_no: code.cardNo,
        first_seen_at: dbDateTime(atSecond(now), client),
        first_seen_by: this.#verifier,
        expires_at: dbDateTime(atSecond(code.acceptUntil), client),
      })
      .onConflict('code_id')
      .ignore()
      .returning('code_id')
    return rows.length > 0 ? ok(undefined) : fail('code_replayed')
  }
}

export interface ReplayOutcome {
  /** Replays of the card within the freeze window, this one included (0 for an unknown card). */
  recentReplays: number
  /** True when this replay froze the card. */
  froze: boolean
}

/**
 * Records a replay: the event, its audit entry, and (when the card's
 * replays within the window reach the count) the card's freeze through
 * FreezeCard, all in one transaction. The card's row is locked first, so
 * that replays of one card presented at once are counted in turn.
 */
export async function recordReplay(
  replay: { cardNo: string; codeId: string; verifier: string; now: number },
  actor: AuditActor,
  policy: ReplayFreezePolicy = replayFreezePolicy()
): Promise<ReplayOutcome> {
  return db.transaction(async (trx) => {
    const found = await trx.from('cards').where('card_no', replay.cardNo).select('id').first()
    const card = found ? await lockCard(trx, { id: Number(found.id) }) : null
    const seenAt = atSecond(replay.now)
    const [inserted] = await trx
      .table('card_code_replays')
      .insert({
        card_id: card?.id ?? null,
        card_no: replay.cardNo,
        code_id: replay.codeId,
        verifier: verifierLabel(replay.verifier),
        seen_at: dbDateTime(seenAt, trx),
        froze_card: false,
      })
      .returning('id')
    const eventId = Number(typeof inserted === 'object' ? inserted.id : inserted)

    let recentReplays = 0
    let froze = false
    if (card) {
      const counted = await trx
        .from('card_code_replays')
        .where('card_id', card.id)
        .where('seen_at', '>', dbDateTime(seenAt.minus({ seconds: policy.windowSeconds }), trx))
        .where('seen_at', '<=', dbDateTime(seenAt, trx))
        .count('* as total')
        .first()
      recentReplays = Number(counted?.total ?? 0)
    }
    // The freeze first: it takes the blacklist counter before the audit log, as every
    // freeze does, so that concurrent transactions take those locks in one order.
    if (card && recentReplays >= policy.maxReplays && canApply('freeze', card.state)) {
      const frozen = await new FreezeCard().handle(
        { card: { id: card.id }, by: 'risk', reason: 'risk' },
        actor,
        trx
      )
      froze = frozen.ok
      if (froze) {
        await trx.from('card_code_replays').where('id', eventId).update({ froze_card: true })
      }
    }
    await recordAudit(
      actor,
      {
        action: 'cards.code_replayed',
        subjectType: 'card',
        subjectId: card?.publicId ?? null,
        outcome: 'denied',
        meta: {
          cardNo: replay.cardNo,
          codeId: replay.codeId,
          verifier: verifierLabel(replay.verifier),
          recentReplays,
          froze,
        },
      },
      trx
    )
    return { recentReplays, froze }
  })
}

/**
 * Forgets code ids that can no longer verify (their acceptance window has
 * passed): a copy of such a code fails as expired before its id is looked
 * up. Returns how many were removed.
 */
export async function pruneSeenCodes(now = Math.floor(Date.now() / 1000)): Promise<number> {
  const client = db.connection()
  const removed = await client
    .from('card_seen_codes')
    .where('expires_at', '<', dbDateTime(atSecond(now), client))
    .delete()
  return Number(Array.isArray(removed) ? removed[0] : removed)
}

/** One replay event for the console. */
export interface ReplayRow {
  id: number
  cardPublicId: string | null
  cardNo: string
  personName: string | null
  personNo: string | null
  codeId: string
  verifier: string
  seenAt: DateTime | null
  froze: boolean
}

export const REPLAYS_PER_PAGE = 50

/**
 * One page of replay events, newest first. `from` and `to` are days
 * (inclusive) in the given time zone; `q` is a card number (spaces
 * allowed) or a person number.
 */
export async function listReplays(
  filters: { from?: string; to?: string; q?: string },
  page: number,
  timeZone: string
) {
  const client = db.connection()
  const query = client
    .from('card_code_replays')
    .leftJoin('cards', 'cards.id', 'card_code_replays.card_id')
    .leftJoin('people', 'people.id', 'cards.person_id')
    .select(
      'card_code_replays.*',
      'cards.public_id as card_public_id',
      'people.name as person_name',
      'people.person_no'
    )
    .orderBy('card_code_replays.seen_at', 'desc')
    .orderBy('card_code_replays.id', 'desc')
  if (filters.from) {
    const start = DateTime.fromISO(filters.from, { zone: timeZone }).startOf('day')
    query.where('card_code_replays.seen_at', '>=', dbDateTime(start, client))
  }
  if (filters.to) {
    const end = DateTime.fromISO(filters.to, { zone: timeZone }).plus({ days: 1 }).startOf('day')
    query.where('card_code_replays.seen_at', '<', dbDateTime(end, client))
  }
  const term = filters.q?.replace(/\s+/g, '')
  if (term) {
    query.where((match) =>
      match.where('card_code_replays.card_no', term).orWhere('people.person_no', term)
    )
  }
  const paginator = await query.paginate(page, REPLAYS_PER_PAGE)
  const rows: ReplayRow[] = paginator.all().map((row: any) => ({
    id: Number(row.id),
    cardPublicId: row.card_public_id ?? null,
    cardNo: row.card_no,
    personName: row.person_name ?? null,
    personNo: row.person_no ?? null,
    codeId: row.code_id,
    verifier: row.verifier,
    seenAt: readTime(row.seen_at),
    froze: Boolean(row.froze_card),
  }))
  return { paginator, rows }
}
