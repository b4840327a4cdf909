import db from '@adonisjs/lucid/services/db'
import type { AuditActor } from '#core/services/audit'
import type { Result } from '#core/services/result'
import { rawRows } from '#core/services/sql_statements'
import { base45Decode } from '#cards/campus_code/base45'
import { toHex } from '#cards/campus_code/bytes'
import { decodeCode } from '#cards/campus_code/layout'
import type { ReplayFreezePolicy } from '#cards/campus_code/replay'
import { acceptCode, type AcceptError, type VerifiedCode } from '#cards/campus_code/verify'
import type { CardState } from '#cards/services/card_rules'
import { issuerKeyRing } from '#cards/services/issuer_signing'
import {
  DatabaseReplayGuard,
  recordReplay,
  replayFreezePolicy,
  type ReplayOutcome,
} from '#cards/services/replay_store'

/**
 * The server's verification of a campus code: the library's acceptCode
 * (docs/campus-code.md §6) with the issuer keys of the storage root (the
 * current key and the retired keys whose credentials may still be valid),
 * the blacklist of the database, one-time use in the database and the
 * replay freeze rule.
 */

/** The card a code names and its holder, as the database has them. */
export interface CodeHolder {
  cardId: number
  cardPublicId: string
  cardNo: string
  cardState: CardState
  personId: number
  cardTypeCode: string
  cardTypeNameZh: string
  cardTypeNameEn: string
  personPublicId: string
  personName: string
  personNo: string
  orgName: string | null
  photoPath: string | null
  /** On the blacklist now (frozen or revoked). */
  listed: boolean
}

export interface CodeVerification {
  result: Result<VerifiedCode, AcceptError>
  /**
   * The card number of a code whose credential the school signed (every
   * result but malformed, unsupported_version, unknown_issuer_key and
   * bad_issuer_signature), or null: a forged card number is never shown.
   */
  cardNo: string | null
  holder: CodeHolder | null
  /** What the replay did (code_replayed only). */
  replay: ReplayOutcome | null
}

/** Refusals that come before the school's signature is checked, or that fail it. */
const UNSIGNED_ERRORS: readonly AcceptError[] = [
  'malformed',
  'unsupported_version',
  'unknown_issuer_key',
  'bad_issuer_signature',
]

/** The columns holderFromRow reads, over cards, people, card_types and org_units. */
export const CODE_HOLDER_COLUMNS = `cards.id, cards.public_id, cards.card_no, cards.state, cards.person_id,
  card_types.code AS type_code, card_types.name_zh AS type_name_zh, card_types.name_en AS type_name_en,
  people.public_id AS person_public_id, people.name AS person_name, people.person_no, people.photo_path,
  org_units.name AS org_name,
  (SELECT card_blacklist.id FROM card_blacklist WHERE card_blacklist.card_id = cards.id
    AND card_blacklist.kind = 'card' AND card_blacklist.removed_version IS NULL LIMIT 1) AS listed_id`

/** Cards and their holders, for holderFromRow (CODE_HOLDER_SQL adds the card number). */
export const CODE_HOLDER_SELECT = `SELECT ${CODE_HOLDER_COLUMNS}
  FROM cards
  JOIN people ON people.id = cards.person_id
  JOIN card_types ON card_types.id = cards.card_type_id
  LEFT JOIN org_units ON org_units.id = people.org_unit_id`

/** The card with a number (the one parameter) and its holder, for holderFromRow. */
export const CODE_HOLDER_SQL = `${CODE_HOLDER_SELECT} WHERE cards.card_no = ?`

/** A device key (hex, the one parameter) on the blacklist: a row when it is listed. */
export const DEVICE_LISTED_SQL = `SELECT id FROM card_blacklist
  WHERE kind = 'device' AND device_key = ? AND removed_version IS NULL LIMIT 1`

/** The holder of a row read with CODE_HOLDER_SQL. */
export function holderFromRow(row: Record<string, any> | undefined): CodeHolder | null {
  if (!row) return null
  return {
    cardId: Number(row.id),
    cardPublicId: row.public_id,
    cardNo: row.card_no,
    cardState: row.state,
    personId: Number(row.person_id),
    cardTypeCode: row.type_code,
    cardTypeNameZh: row.type_name_zh,
    cardTypeNameEn: row.type_name_en,
    personPublicId: row.person_public_id,
    personName: row.person_name,
    personNo: row.person_no,
    orgName: row.org_name ?? null,
    photoPath: row.photo_path ?? null,
    listed: row.listed_id !== null && row.listed_id !== undefined,
  }
}

/** The card with this number and its holder, or null. */
export async function codeHolderOf(cardNo: string): Promise<CodeHolder | null> {
  const [row] = await rawRows(db.connection(), CODE_HOLDER_SQL, [cardNo])
  return holderFromRow(row)
}

/** Whether a phone's device key is on the blacklist (the card moved to another phone). */
export async function deviceListed(deviceKeyHex: string): Promise<boolean> {
  const rows = await rawRows(db.connection(), DEVICE_LISTED_SQL, [deviceKeyHex])
  return rows.length > 0
}

/** The card number a code's credential carries, when the text decodes. */
function cardNoInText(text: string): string | null {
  const bytes = base45Decode(text)
  if (!bytes.ok) return null
  const decoded = decodeCode(bytes.value)
  return decoded.ok ? decoded.value.credential.cardNo : null
}

export interface VerifyCampusCodeOptions {
  /** Who verifies: a terminal id, `console:<username>`…; kept with seen codes and replays. */
  verifier: string
  /** Unix seconds (default: now). */
  now?: number
  /** The audit actor of a replay and of the freeze it may cause (default: the system, named by the verifier). */
  actor?: AuditActor
  /** Default: the configuration (QUAD_REPLAY_FREEZE_COUNT / _WINDOW). */
  freezePolicy?: ReplayFreezePolicy
}

/**
 * Verifies and accepts a campus code on the server. Accepted once, the same
 * code is refused everywhere afterwards as code_replayed; the replay is
 * recorded and audited, and may freeze the card. Refusals are values; only
 * a broken database or runtime throws.
 */
export async function verifyCampusCode(
  text: string,
  options: VerifyCampusCodeOptions
): Promise<CodeVerification> {
  const now = options.now ?? Math.floor(Date.now() / 1000)
  const holders = new Map<string, CodeHolder | null>()
  const holderOf = async (cardNo: string) => {
    if (!holders.has(cardNo)) holders.set(cardNo, await codeHolderOf(cardNo))
    return holders.get(cardNo) ?? null
  }
  const result = await acceptCode(text, {
    issuerKeys: await issuerKeyRing(),
    now,
    isBlacklisted: async (credential) => {
      const holder = await holderOf(credential.cardNo)
      if (holder?.listed) return true
      return deviceListed(toHex(credential.devicePublicKey))
    },
    replayGuard: new DatabaseReplayGuard({
      verifier: options.verifier,
      cardIdOf: (cardNo) => holders.get(cardNo)?.cardId ?? null,
    }),
  })

  const cardNo = result.ok
    ? result.value.cardNo
    : UNSIGNED_ERRORS.includes(result.error)
      ? null
      : cardNoInText(text)
  const holder = cardNo ? await holderOf(cardNo) : null

  let replay: ReplayOutcome | null = null
  if (!result.ok && result.error === 'code_replayed' && cardNo) {
    replay = await recordReplay(
      { cardNo, codeId: String(result.details?.codeId ?? ''), verifier: options.verifier, now },
      options.actor ?? { type: 'system', name: options.verifier.slice(0, 100) },
      options.freezePolicy ?? replayFreezePolicy()
    )
    // The freeze changed the card: show it as it is now.
    if (replay.froze) {
      holders.delete(cardNo)
      return { result, cardNo, holder: await holderOf(cardNo), replay }
    }
  }
  return { result, cardNo, holder, replay }
}

/**
 * The code text as a keyboard-wedge scanner typed it into a form: the line
 * terminator it appends is dropped, and so is the form's trimming undone.
 * Base45 text never ends in a space (the last character of a triple is at
 * most 32 of 44, of a pair at most 5), so trimming only removes leading
 * spaces; a format-1 code begins with at most one (its second character is
 * 17–23), and a length of 3k+1, which Base45 never has, means it lost it.
 */
export function scannedText(typed: string): string {
  const text = typed.replace(/^[\r\n]+|[\r\n]+$/g, '')
  return text.length % 3 === 1 ? ` ${text}` : text
}
