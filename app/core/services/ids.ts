import { randomFillSync } from 'node:crypto'

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

/** Random bytes drawn from the system in blocks: one system call per 256 ids. */
const pool = Buffer.alloc(4096)
let poolOffset = pool.length

function randomBlock(size: number): Buffer {
  if (poolOffset + size > pool.length) {
    randomFillSync(pool)
    poolOffset = 0
  }
  const block = pool.subarray(poolOffset, poolOffset + size)
  poolOffset += size
  return block
}

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
  const random = randomBlock(16)
  let tail = ''
  for (let i = 0; i < 16; i++) tail += CROCKFORD[random[i] % 32]
  return time + tail
}
