import test from 'ava'
import fc from 'fast-check'
import { fenFromDb, Money, MAX_FEN, sumFen } from '#ledger/services/money'

function parsed(text: string) {
  const result = Money.parse(text)
  return result.ok ? result.value.fen : result.error
}

test('parses yuan as typed into integer fen, never through floating point', (t) => {
  t.is(parsed('12.50'), 1250)
  t.is(parsed('12.5'), 1250)
  t.is(parsed('12'), 1200)
  t.is(parsed('0.01'), 1)
  t.is(parsed('0'), 0)
  t.is(parsed('-3.07'), -307)
  // 0.1 + 0.2 in floating point is 0.30000000000000004; here it is exact.
  t.is(parsed('0.29'), 29)
  t.is(parsed('1.15'), 115)
  t.is(parsed('9999999999999.99'), 999_999_999_999_999)
})

test('refuses anything that is not a plain amount', (t) => {
  for (const text of [
    '',
    ' 12',
    '12 ',
    '+12',
    '¥12',
    '1,000',
    '1e3',
    '0x10',
    '.5',
    '5.',
    '012',
    'abc',
    '12.5.0',
    '１２',
  ])
    t.is(parsed(text), 'amount_invalid', JSON.stringify(text))
  t.is(parsed('12.505'), 'amount_precision')
  t.is(parsed('0.001'), 'amount_precision')
  t.is(parsed('10000000000000'), 'amount_too_large')
})

test('formats ¥ with thousands separators, the same in Chinese and English', (t) => {
  t.is(Money.ofFen(123450).format('zh-CN'), '¥1,234.50')
  t.is(Money.ofFen(123450).format('en'), '¥1,234.50')
  t.is(Money.ofFen(5).format(), '¥0.05')
  t.is(Money.ofFen(-5).format(), '-¥0.05')
  t.is(Money.ofFen(100_000_000).format(), '¥1,000,000.00')
  t.is(Money.ofFen(1250).format('zh-CN', { signed: true }), '+¥12.50')
  t.is(Money.ofFen(0).format('zh-CN', { signed: true }), '¥0.00')
  t.is(Money.ofFen(-123456).toDecimal(), '-1234.56')
  t.is(JSON.stringify({ amount: Money.ofFen(1250) }), '{"amount":1250}')
})

test('every amount survives formatting and parsing unchanged', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: -999_999_999_999_999, max: 999_999_999_999_999 }), (fen) => {
      const money = Money.ofFen(fen)
      const back = Money.parse(money.toDecimal())
      return back.ok && back.value.fen === fen
    }),
    { numRuns: 2000 }
  )
  t.pass()
})

test('arithmetic refuses to leave the exact integer range', (t) => {
  t.is(Money.ofFen(1250).plus(Money.ofFen(-250)).fen, 1000)
  t.is(Money.ofFen(1).minus(Money.ofFen(1)).fen, 0)
  t.throws(() => Money.ofFen(MAX_FEN).plus(Money.ofFen(1)), { instanceOf: RangeError })
  t.throws(() => Money.ofFen(0.5), { instanceOf: RangeError })
  t.throws(() => Money.ofFen(Number.NaN), { instanceOf: RangeError })
  t.throws(() => sumFen([MAX_FEN, 1]), { instanceOf: RangeError })
})

test('reads amounts as either database returns them, and refuses what is not an integer', (t) => {
  t.is(fenFromDb('1250'), 1250)
  t.is(fenFromDb('-42'), -42)
  t.is(fenFromDb(99), 99)
  t.is(fenFromDb(12n), 12)
  t.is(fenFromDb(null), 0)
  t.throws(() => fenFromDb('12.50'), { instanceOf: RangeError })
  t.throws(() => fenFromDb('9007199254740993'), { instanceOf: RangeError })
  t.throws(() => fenFromDb(1.5), { instanceOf: RangeError })
})
