import { randomBytes } from 'node:crypto'

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

/**
 * A ULID: 48-bit time + 80 random bits in Crockford base32. Used wherever an
 * id leaves the database (URLs, terminals), so ids are sortable but not guessable.
 */
export function newPublicId(now = Date.now()): string {
  let time = ''
  let value = now
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[value % 32] + time
    value = Math.floor(value / 32)
  }
  const random = randomBytes(16)
  let tail = ''
  for (let i = 0; i < 16; i++) tail += CROCKFORD[random[i] % 32]
  return time + tail
}
