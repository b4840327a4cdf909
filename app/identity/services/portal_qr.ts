import { timingSafeEqual } from 'node:crypto'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import PortalQrChallenge from '#identity/models/portal_qr_challenge'
import { looksLikeSecret, secretDigest } from '#identity/services/portal_secrets'

/**
 * QR login (docs/portal.md): a challenge is good for two minutes. Its QR
 * token travels to the phone; its browser secret stays in the desktop's
 * cookie, so that only the browser that showed the code can redeem it.
 */
export const QR_CHALLENGE_TTL_SECONDS = 120

/** The desktop cookie's value: "<challenge public id>.<browser secret>". */
export function browserBinding(challenge: PortalQrChallenge, browserSecret: string): string {
  return `${challenge.publicId}.${browserSecret}`
}

/** The challenge a QR token names, or null. */
export async function challengeByToken(token: unknown): Promise<PortalQrChallenge | null> {
  if (!looksLikeSecret(token)) return null
  return PortalQrChallenge.findBy('token_hash', secretDigest(token))
}

/** The challenge a desktop cookie names, if that cookie really is the one it was bound to. */
export async function challengeForBrowser(binding: unknown): Promise<PortalQrChallenge | null> {
  if (typeof binding !== 'string') return null
  const [publicId, secret] = binding.split('.', 2)
  if (!publicId || !/^[0-9A-Z]{26}$/.test(publicId) || !looksLikeSecret(secret)) return null
  const challenge = await PortalQrChallenge.findBy('public_id', publicId)
  if (!challenge) return null
  const expected = Buffer.from(challenge.browserHash, 'hex')
  const given = Buffer.from(secretDigest(secret), 'hex')
  return expected.length === given.length && timingSafeEqual(expected, given) ? challenge : null
}

/** The phone opened the link: the desktop can say "scanned, confirm on your phone". */
export async function noteQrScanned(challenge: PortalQrChallenge): Promise<void> {
  if (challenge.status !== 'pending') return
  await db
    .from('portal_qr_challenges')
    .where('id', challenge.id)
    .where('status', 'pending')
    .update({ status: 'scanned' })
  challenge.status = 'scanned'
}

/** True while the challenge can still be approved or rejected. */
export function challengeOpen(challenge: PortalQrChallenge, now = DateTime.utc()): boolean {
  return ['pending', 'scanned'].includes(challenge.status) && !challenge.isExpired(now)
}
