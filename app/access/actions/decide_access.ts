import { fail, ok, type Result } from '#core/services/result'
import { verifyCampusCode } from '#cards/services/code_verification'
import { normalizeUid } from '#cards/services/uids'
import {
  decideAccess,
  type AccessDecision,
  type PresentedCredential,
} from '#access/services/access_decision'
import { buildAccessSnapshot, findPoint } from '#access/services/access_snapshot'
import { cardOfUid, personIdsOfCards, recordAccessEvent } from '#access/services/access_events'

/** A public id (ULID, Crockford base32). */
const PUBLIC_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/i

export interface DecideAccessInput {
  /** The access point's public id. */
  point: string
  /** A campus code's text, as scanned. */
  code?: string | null
  /** A physical card's UID, in any reader format ("04:A2:…"). */
  uid?: string | null
  /** Unix seconds (default now). */
  at?: number
  /** The terminal asking (terminals.id); it may only ask for its own points. */
  terminalId?: number | null
  /** Kept with the code's one-time use and replays (default `access:<point>`). */
  verifier?: string
}

export interface AccessOutcome {
  decision: AccessDecision
  eventId: number
  /** The version of the point's rules when the decision was made. */
  rulesVersion: number | null
}

/**
 * Decides online whether a campus code or a physical card opens an access
 * point, and logs the decision. The campus code is verified and used up
 * (docs/campus-code.md §6); the decision itself is decideAccess on the
 * point's snapshot narrowed to the presented card, the same function a
 * door runs offline.
 */
export class DecideAccess {
  async handle(input: DecideAccessInput): Promise<Result<AccessOutcome, 'credential_missing'>> {
    const code = input.code ?? null
    const uidText = input.uid ?? null
    if ((code === null || code === '') && (uidText === null || uidText === '')) {
      return fail('credential_missing')
    }
    const at = input.at ?? Math.floor(Date.now() / 1000)
    let point = PUBLIC_ID.test(input.point) ? await findPoint(input.point) : null
    if (point && input.terminalId !== undefined && input.terminalId !== null) {
      if (point.terminalId !== input.terminalId) point = null
    }

    let presented: PresentedCredential
    let cardIds: number[] = []
    let knownPerson: { cardNo: string; personId: number } | null = null
    let uid: string | null = null
    if (code) {
      if (!point) {
        // An unknown point uses up nothing: the code stays valid for a real door.
        presented = { kind: 'code_refused', error: 'unknown_point', cardNo: null }
      } else {
        const verification = await verifyCampusCode(code, {
          verifier: (input.verifier ?? `access:${point.publicId}`).slice(0, 100),
          now: at,
        })
        if (verification.holder) cardIds = [verification.holder.cardId]
        presented = verification.result.ok
          ? {
              kind: 'code',
              cardNo: verification.result.value.cardNo,
              permissions: verification.result.value.permissions,
            }
          : { kind: 'code_refused', error: verification.result.error, cardNo: verification.cardNo }
      }
    } else {
      const normalized = normalizeUid(uidText!)
      uid = normalized.ok ? normalized.value : uidText!.slice(0, 20)
      const card = normalized.ok ? await cardOfUid(normalized.value) : null
      if (card) {
        cardIds = [card.cardId]
        knownPerson = { cardNo: card.cardNo, personId: card.personId }
      }
      presented = { kind: 'card', uid: normalized.ok ? normalized.value : '' }
    }

    // The rules as they stand now, as a door that synced just now holds them.
    const builtAt = Math.floor(Date.now() / 1000)
    const snapshot = point ? await buildAccessSnapshot(point, builtAt, { cardIds }) : null
    const rulesVersion = point ? point.rulesVersion : null
    const decision = decideAccess(snapshot, presented, at)

    const personIds =
      knownPerson && knownPerson.cardNo === decision.cardNo
        ? new Map([[knownPerson.cardNo, knownPerson.personId]])
        : decision.cardNo
          ? await personIdsOfCards([decision.cardNo])
          : new Map<string, number>()
    const eventId = await recordAccessEvent({
      occurredAt: at,
      pointId: point?.id ?? null,
      zoneId: point?.zoneId ?? null,
      direction: point?.direction ?? null,
      personId: decision.cardNo ? (personIds.get(decision.cardNo) ?? null) : null,
      cardNo: decision.cardNo,
      uid,
      credential: code ? 'code' : 'card',
      allowed: decision.allowed,
      reason: decision.reason,
      mode: 'online',
      terminalId: input.terminalId ?? null,
      terminalSeq: null,
      rulesVersion,
    })
    return ok({ decision, eventId, rulesVersion })
  }
}
