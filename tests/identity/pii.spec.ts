import test from 'ava'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DateTime } from 'luxon'

// The PII service keeps its keys in the storage root; each run gets its own.
const storage = mkdtempSync(join(tmpdir(), 'quad-pii-'))
process.env.QUAD_STORAGE = storage

const pii = await import('#identity/services/pii')
const rules = await import('#identity/services/person_rules')

test.after.always(() => rmSync(storage, { recursive: true, force: true }))

test('accepts resident ID numbers whose GB 11643 check character is right', (t) => {
  for (const valid of [
    '11010519491231002X',
    '11010519491231002x',
    '440106200002291238',
    '440306199901011231',
    '32058320010915007X',
    '510104200506302012',
  ]) {
    const checked = rules.checkResidentId(valid)
    t.true(checked.ok, valid)
    if (checked.ok) t.is(checked.value, valid.toUpperCase())
  }
})

test('refuses resident ID numbers with a wrong check character', (t) => {
  for (const wrong of ['110105194912310021', '440106200002291239', '320583200109150070']) {
    t.deepEqual(rules.checkResidentId(wrong), { ok: false, error: 'id_check_digit' }, wrong)
  }
})

test('refuses resident ID numbers with an impossible birth date or region', (t) => {
  // 2001-02-29 does not exist; the check character is computed so only the date is wrong.
  const feb29 = '44010620010229123'
  t.deepEqual(rules.checkResidentId(feb29 + rules.gb11643CheckCharacter(feb29)), {
    ok: false,
    error: 'id_birth_date',
  })
  const future = `440106${DateTime.utc().plus({ years: 1 }).toFormat('yyyyMMdd')}123`
  t.is(
    (rules.checkResidentId(future + rules.gb11643CheckCharacter(future)) as { error: string })
      .error,
    'id_birth_date'
  )
  // The standard's own example: right check digit, but born in 1880.
  t.deepEqual(rules.checkResidentId('440524188001010014'), { ok: false, error: 'id_birth_date' })
  const region = '99010519491231002'
  t.deepEqual(rules.checkResidentId(region + rules.gb11643CheckCharacter(region)), {
    ok: false,
    error: 'id_region',
  })
  for (const malformed of ['1101051949123100', '11010519491231002XX', '1101051949123100X2', '']) {
    t.deepEqual(rules.checkResidentId(malformed), { ok: false, error: 'id_format' }, malformed)
  }
})

test('checks other ID documents loosely and normalizes them', (t) => {
  t.deepEqual(rules.checkIdDocNumber('passport', ' e1234 5678 '), { ok: true, value: 'E12345678' })
  t.deepEqual(rules.checkIdDocNumber('hk_macao_permit', 'H12345678'), {
    ok: true,
    value: 'H12345678',
  })
  t.deepEqual(rules.checkIdDocNumber('passport', 'E1'), { ok: false, error: 'id_format' })
  t.deepEqual(rules.checkIdDocNumber('other', 'AB#123456'), { ok: false, error: 'id_format' })
})

test('accepts mainland mobiles, landlines and international numbers and refuses the rest', (t) => {
  t.deepEqual(rules.checkPhone('138 0013 8000'), { ok: true, value: '13800138000' })
  t.deepEqual(rules.checkPhone('+86 139-1234-5678'), { ok: true, value: '13912345678' })
  t.deepEqual(rules.checkPhone('020-87654321'), { ok: true, value: '02087654321' })
  t.deepEqual(rules.checkPhone('+852 9123 4567'), { ok: true, value: '+85291234567' })
  for (const bad of ['12800138000', '1380013800', '138001380001', 'abc', '+0 123', '12345']) {
    t.deepEqual(rules.checkPhone(bad), { ok: false, error: 'phone_format' }, bad)
  }
})

test('masks phone and ID numbers the way the console shows them', (t) => {
  t.is(pii.maskPhone('13812345678'), '138****5678')
  t.is(pii.maskIdNumber('440106200002291238'), '4401**********1238')
  t.is(pii.maskIdNumber('E12345678'), 'E******78')
  t.is(pii.maskPhone('+85291234567'), '+85*****4567')
})

test('encrypts with AES-256-GCM under a 0600 key file and decrypts only the same field', (t) => {
  const ciphertext = pii.encryptPii('phone', '13812345678')
  t.false(ciphertext.includes('13812345678'))
  t.regex(ciphertext, /^pii1\.[0-9a-f]{8}\./)
  t.not(pii.encryptPii('phone', '13812345678'), ciphertext, 'a fresh IV every time')
  t.is(pii.decryptPii('phone', ciphertext), '13812345678')
  t.throws(() => pii.decryptPii('id_doc_number', ciphertext), undefined, 'bound to its field')

  const [format, keyId, iv, tag, data] = ciphertext.split('.')
  const flipped = Buffer.from(data, 'base64url')
  flipped[0] ^= 1
  t.throws(() =>
    pii.decryptPii('phone', [format, keyId, iv, tag, flipped.toString('base64url')].join('.'))
  )

  pii.blindIndex('phone', '13812345678')
  for (const path of [pii.piiKeyPath(), pii.piiIndexKeyPath()]) {
    t.is(statSync(path).mode & 0o777, 0o600, path)
    t.is(Buffer.from(readFileSync(path, 'utf8').trim(), 'base64url').length, 32)
  }
  t.not(readFileSync(pii.piiKeyPath(), 'utf8'), readFileSync(pii.piiIndexKeyPath(), 'utf8'))
})

test('gives equal values the same blind index per field and different ones across fields', (t) => {
  const phone = pii.blindIndex('phone', '13812345678')
  t.regex(phone, /^[0-9a-f]{64}$/)
  t.is(pii.blindIndex('phone', '13812345678'), phone)
  t.not(pii.blindIndex('phone', '13812345679'), phone)
  t.not(pii.blindIndex('id_doc_number', '13812345678'), phone)
})

test('keeps the keys across restarts', (t) => {
  const ciphertext = pii.encryptPii('id_doc_number', '440106200002291238')
  pii.forgetPiiKeys()
  t.is(pii.decryptPii('id_doc_number', ciphertext), '440106200002291238')
})
