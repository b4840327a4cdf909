/**
 * The gateway's certificate → terminal memory, with no database and a clock
 * of the test's own: one lookup serves a terminal's requests for the
 * time-to-live, a change is seen once it has passed (or at once when made
 * in the same process), and only active terminals are remembered.
 */
import test from 'ava'
import { CertificateCache, type CertificateLookup } from '#terminals/services/certificate_cache'

type Status = 'active' | 'revoked'
interface FakeTerminal {
  id: number
  status: Status
}

/** A registry of terminals by fingerprint that counts its lookups. */
function given(ttlMs = 2000, maxEntries?: number) {
  const clock = { now: 1_000 }
  const rows = new Map<string, FakeTerminal>()
  const counted = { lookups: 0 }
  let hold: Promise<void> | null = null
  const cache = new CertificateCache<FakeTerminal, 'unknown_certificate' | 'terminal_revoked'>({
    ttlMs,
    maxEntries,
    clock: () => clock.now,
    lookup: async (
      fingerprint
    ): Promise<CertificateLookup<FakeTerminal, 'unknown_certificate' | 'terminal_revoked'>> => {
      counted.lookups += 1
      // A copy: what the database said at the time of the lookup.
      const row = rows.get(fingerprint)
      const found = row ? { ...row } : undefined
      if (hold) await hold
      if (!found) return { ok: false, error: 'unknown_certificate' }
      if (found.status === 'revoked') return { ok: false, error: 'terminal_revoked' }
      return { ok: true, terminal: found }
    },
  })
  return {
    cache,
    clock,
    rows,
    counted,
    holdLookups() {
      let release!: () => void
      hold = new Promise((resolve) => (release = resolve))
      return () => {
        hold = null
        release()
      }
    },
  }
}

test('a terminal’s requests within the time-to-live cost one lookup', async (t) => {
  const { cache, clock, rows, counted } = given()
  rows.set('aa', { id: 1, status: 'active' })
  for (let index = 0; index < 50; index++) {
    const found = await cache.resolve('aa')
    t.true(found.ok)
    clock.now += 39
  }
  t.is(counted.lookups, 1)
  clock.now += 100
  t.true((await cache.resolve('aa')).ok)
  t.is(counted.lookups, 2, 'looked up again once 2 s had passed')
})

test('a revocation made elsewhere is refused once the time-to-live has passed', async (t) => {
  const { cache, clock, rows } = given()
  rows.set('aa', { id: 1, status: 'active' })
  t.true((await cache.resolve('aa')).ok)
  rows.get('aa')!.status = 'revoked'
  clock.now += 1999
  t.true((await cache.resolve('aa')).ok, 'within the bound the remembered answer holds')
  clock.now += 1
  t.deepEqual(await cache.resolve('aa'), { ok: false, error: 'terminal_revoked' })
  clock.now += 10_000
  t.deepEqual(await cache.resolve('aa'), { ok: false, error: 'terminal_revoked' })
})

test('a change made in this process is seen on the next request', async (t) => {
  const { cache, rows, counted } = given()
  rows.set('aa', { id: 1, status: 'active' })
  rows.set('bb', { id: 2, status: 'active' })
  t.true((await cache.resolve('aa')).ok)
  t.true((await cache.resolve('bb')).ok)
  rows.get('aa')!.status = 'revoked'
  cache.forgetTerminal(1)
  t.deepEqual(await cache.resolve('aa'), { ok: false, error: 'terminal_revoked' })
  t.true((await cache.resolve('bb')).ok)
  t.is(counted.lookups, 3, 'the other terminal stays remembered')
})

test('unknown and revoked certificates are looked up every time', async (t) => {
  const { cache, rows, counted } = given()
  rows.set('rr', { id: 3, status: 'revoked' })
  t.deepEqual(await cache.resolve('zz'), { ok: false, error: 'unknown_certificate' })
  t.deepEqual(await cache.resolve('zz'), { ok: false, error: 'unknown_certificate' })
  t.deepEqual(await cache.resolve('rr'), { ok: false, error: 'terminal_revoked' })
  t.deepEqual(await cache.resolve('rr'), { ok: false, error: 'terminal_revoked' })
  t.is(counted.lookups, 4)
  t.is(cache.size, 0)
})

test('requests that miss together share one lookup', async (t) => {
  const { cache, rows, counted, holdLookups } = given()
  rows.set('aa', { id: 1, status: 'active' })
  const release = holdLookups()
  const answers = Promise.all(Array.from({ length: 10 }, () => cache.resolve('aa')))
  release()
  t.true((await answers).every((answer) => answer.ok))
  t.is(counted.lookups, 1)
})

test('a lookup under way when the terminal changes does not keep its answer', async (t) => {
  const { cache, rows, counted, holdLookups } = given()
  rows.set('aa', { id: 1, status: 'active' })
  const release = holdLookups()
  const before = cache.resolve('aa')
  // Revoked and forgotten while the first lookup still waits for the database.
  rows.get('aa')!.status = 'revoked'
  cache.forgetTerminal(1)
  const after = cache.resolve('aa')
  release()
  t.true((await before).ok, 'the request that came first was answered from before the change')
  t.deepEqual(await after, { ok: false, error: 'terminal_revoked' })
  t.deepEqual(await cache.resolve('aa'), { ok: false, error: 'terminal_revoked' })
  t.is(counted.lookups, 3)
})

test('the time-to-live counts from the start of the lookup', async (t) => {
  const { cache, clock, rows, counted, holdLookups } = given()
  rows.set('aa', { id: 1, status: 'active' })
  const release = holdLookups()
  const slow = cache.resolve('aa')
  clock.now += 1500
  release()
  t.true((await slow).ok)
  clock.now += 500
  t.true((await cache.resolve('aa')).ok)
  t.is(counted.lookups, 2, 'read again 2 s after the first lookup began, not after it ended')
})

test('a request does not wait for a lookup that began more than the time-to-live ago', async (t) => {
  const { cache, clock, rows, counted, holdLookups } = given()
  rows.set('aa', { id: 1, status: 'active' })
  const release = holdLookups()
  const stuck = cache.resolve('aa')
  rows.get('aa')!.status = 'revoked'
  clock.now += 2000
  const later = cache.resolve('aa')
  release()
  t.true((await stuck).ok)
  t.deepEqual(await later, { ok: false, error: 'terminal_revoked' })
  t.is(counted.lookups, 2)
  t.is(cache.size, 0, 'the slow answer is not remembered')
})

test('memory is bounded: the oldest certificate goes first', async (t) => {
  const { cache, rows, counted } = given(2000, 3)
  for (const [index, fingerprint] of ['a1', 'a2', 'a3', 'a4'].entries()) {
    rows.set(fingerprint, { id: index + 1, status: 'active' })
    await cache.resolve(fingerprint)
  }
  t.is(cache.size, 3)
  await cache.resolve('a4')
  await cache.resolve('a2')
  t.is(counted.lookups, 4)
  await cache.resolve('a1')
  t.is(counted.lookups, 5, 'the first one was dropped')
})
