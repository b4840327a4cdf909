import { randomBytes } from 'node:crypto'
import encryption from '@adonisjs/core/services/encryption'
import { type DateTime } from 'luxon'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import { asciiBytes } from '#cards/campus_code/bytes'
import { verifyDeviceKeyProof } from '#cards/campus_code/keys'
import { MAX_CREDENTIAL_LIFETIME_SECONDS } from '#cards/campus_code/layout'
import { DEFAULT_RENEW_AFTER_SECONDS } from '#cards/campus_code/credential'
import { DEFAULT_CODE_REFRESH_SECONDS } from '#cards/campus_code/code'
import Card from '#cards/models/card'
import CardDevice from '#cards/models/card_device'
import { LIVE_STATES } from '#cards/services/card_rules'

/**
 * Device keys of the portal's card page (docs/campus-code.md §11): the
 * one-time challenges a phone signs to prove it holds its device key, and
 * the validity of the credentials the appliance signs for it.
 */

/** How long a challenge can be answered. */
export const CHALLENGE_SECONDS = 300
/** Credentials last 7 days (the format's longest), less if the card ends sooner. */
export const CREDENTIAL_SECONDS = MAX_CREDENTIAL_LIFETIME_SECONDS
export const CODE_REFRESH_SECONDS = DEFAULT_CODE_REFRESH_SECONDS
export const RENEW_AFTER_SECONDS = DEFAULT_RENEW_AFTER_SECONDS

const PURPOSE = 'card-device-proof'

interface ChallengeBody {
  session: number
  card: number
  nonce: string
}

/**
 * A challenge for one portal session and one card: sealed with the
 * application key and good for CHALLENGE_SECONDS, so the server keeps no
 * state. The phone signs its ASCII bytes with proveDeviceKey.
 */
export function deviceChallenge(sessionId: number, cardId: number): string {
  const body: ChallengeBody = {
    session: sessionId,
    card: cardId,
    nonce: randomBytes(16).toString('base64url'),
  }
  return encryption.encrypt(body, `${CHALLENGE_SECONDS}s`, PURPOSE)
}

/** Whether `proof` signs a challenge made for this session and card with `publicKey`. */
export async function checkDeviceProof(input: {
  sessionId: number
  cardId: number
  challenge: string
  publicKey: Uint8Array
  proof: Uint8Array
}): Promise<boolean> {
  const body = encryption.decrypt<ChallengeBody>(input.challenge, PURPOSE)
  if (!body || body.session !== input.sessionId || body.card !== input.cardId) return false
  return verifyDeviceKeyProof(input.publicKey, asciiBytes(input.challenge), input.proof)
}

/** The device in use for a card, if any. */
export function deviceInUse(
  cardId: number,
  trx?: TransactionClientContract
): Promise<CardDevice | null> {
  return CardDevice.query(trx ? { client: trx } : {})
    .where('card_id', cardId)
    .whereNull('revoked_at')
    .first()
}

/**
 * The card a person's card page shows: the one named (when it is theirs),
 * or their first live card in the order of the card types.
 */
export async function portalCardOf(personId: number, publicId?: string | null) {
  const query = Card.query()
    .where('cards.person_id', personId)
    .join('card_types', 'card_types.id', 'cards.card_type_id')
    .select('cards.*')
    .preload('cardType')
    .preload('person', (person) => person.preload('orgUnit'))
  if (publicId) return query.where('cards.public_id', publicId.toUpperCase()).first()
  return query
    .whereIn('cards.state', LIVE_STATES as string[])
    .orderBy('card_types.sort_order')
    .orderBy('cards.id')
    .first()
}

/** The person's live cards (pending activation, active, frozen), in the order the portal shows them. */
export function portalCardsOf(personId: number) {
  return Card.query()
    .where('cards.person_id', personId)
    .whereIn('cards.state', LIVE_STATES as string[])
    .join('card_types', 'card_types.id', 'cards.card_type_id')
    .select('cards.*')
    .preload('cardType')
    .orderBy('card_types.sort_order')
    .orderBy('cards.id')
}

/** Unix seconds of a DateTime. */
export function unixSeconds(time: DateTime): number {
  return Math.floor(time.toSeconds())
}
