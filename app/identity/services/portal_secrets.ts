import { createHash, randomBytes } from 'node:crypto'

/**
 * The portal's bearer secrets (session cookies, QR challenges, reset links)
 * are 256 random bits. Only their SHA-256 digest is stored: the secret is
 * unguessable, so the digest needs no salt or slow hash, and a copy of the
 * database holds nothing that can be presented.
 */
export function newSecret(): string {
  return randomBytes(32).toString('base64url')
}

/** The stored form of a secret: SHA-256, hex. */
export function secretDigest(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex')
}

/** A secret as it may arrive from a cookie or a URL: base64url, 43 characters. */
export function looksLikeSecret(value: unknown): value is string {
  return typeof value === 'string' && /^[\w-]{43}$/.test(value)
}
