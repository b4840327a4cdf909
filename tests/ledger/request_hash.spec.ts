/**
 * The request hash that makes a retry "the same request": canonical JSON
 * (keys sorted at every level, undefined left out) and its SHA-256. Hashes
 * are stored with every transfer, so the text must never change.
 */
import test from 'ava'
import fc from 'fast-check'
import { canonicalJson, requestHash, requestHashOf } from '#ledger/services/requests'

test('canonical JSON sorts keys at every level and leaves undefined out', (t) => {
  t.is(
    canonicalJson({ b: 1, a: [3, { d: null, c: 'x', e: undefined }], é: '饭卡', A: true }),
    '{"A":true,"a":[3,{"c":"x","d":null}],"b":1,"é":"饭卡"}'
  )
  t.is(canonicalJson([undefined, 1]), '[null,1]')
  t.is(canonicalJson(null), 'null')
  t.is(canonicalJson(undefined), 'null')
  t.is(canonicalJson({}), '{}')
  t.is(canonicalJson('a"b'), '"a\\"b"')
})

test('the hash of a payment request is the one stored with transfers', (t) => {
  // Fixed: a change here would make every retry of an earlier payment a conflict.
  const stored = 'b41cea7f1e707a37438c9ad82391c044e73e1cba7012bfebbc79a8b924ec6499'
  const metadata = { channel: 'campus_code', shop: '01JSHOP', card: '2024000123', code: 'c0de' }
  const fingerprint = {
    kind: 'payment',
    postings: [
      [12, -350],
      [40, 350],
    ] as [number, number][],
    memo: null,
    reversesTransferId: null,
    refersToTransferId: null,
  }
  t.is(requestHash({ ...fingerprint, metadata }), stored)
  t.is(requestHashOf(fingerprint, canonicalJson(metadata)), stored)
})

test('canonical JSON is JSON of the same value, whatever the key order', (t) => {
  fc.assert(
    fc.property(fc.jsonValue(), (value) => {
      const text = canonicalJson(value)
      t.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(value)))
      const reversed = JSON.parse(JSON.stringify(value), (_key, inner) =>
        inner && typeof inner === 'object' && !Array.isArray(inner)
          ? Object.fromEntries(Object.entries(inner).reverse())
          : inner
      )
      return canonicalJson(reversed) === text
    })
  )
})

test('the hash from canonical metadata text is the hash of the fingerprint', (t) => {
  const fingerprint = fc.record({
    kind: fc.string(),
    postings: fc.array(fc.tuple(fc.integer(), fc.integer())),
    memo: fc.option(fc.string(), { nil: null }),
    metadata: fc.option(fc.dictionary(fc.string(), fc.jsonValue()), { nil: null }),
    reversesTransferId: fc.option(fc.nat(), { nil: null }),
    refersToTransferId: fc.option(fc.nat(), { nil: null }),
  })
  fc.assert(
    fc.property(fingerprint, ({ metadata, ...rest }) => {
      const parsed = metadata === null ? null : JSON.parse(JSON.stringify(metadata))
      return (
        requestHashOf(rest, parsed === null ? null : canonicalJson(parsed)) ===
        requestHash({ ...rest, metadata: parsed })
      )
    })
  )
  t.pass()
})
