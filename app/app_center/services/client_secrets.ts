import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { newPublicId } from '#core/services/ids'

/**
 * OpenID Connect client ids and secrets. A secret is 256 random bits, so a
 * plain SHA-256 digest can be neither reversed nor guessed; a slow password
 * hash would only cost CPU on every token request.
 */

/** A new client id: "app_" and a lowercase ULID. */
export function newClientId(): string {
  return `app_${newPublicId().toLowerCase()}`
}

export const CLIENT_ID_PATTERN = /^app_[0-9a-z]{26}$/

/** A new client secret, base64url (43 characters). */
export function newClientSecret(): string {
  return randomBytes(32).toString('base64url')
}

/** The digest Quad stores of a secret (hex, 64 characters). */
export function clientSecretDigest(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex')
}

/** Compares a presented secret with a stored digest in constant time. */
export function clientSecretMatches(
  stored: string | null | undefined,
  presented: unknown
): boolean {
  if (typeof presented !== 'string' || presented.length === 0 || presented.length > 512) {
    return false
  }
  const given = Buffer.from(clientSecretDigest(presented), 'hex')
  const expected = Buffer.from(
    stored && /^[0-9a-f]{64}$/.test(stored) ? stored : '0'.repeat(64),
    'hex'
  )
  return timingSafeEqual(expected, given) && Boolean(stored)
}
