import test from 'ava'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { bootTestApp, type TestApp } from '#tests/helpers/app'

let quad: TestApp

const PEOPLE = [
  { personNo: 'R001', phone: '13912345671', idDocNumber: '440106200002291238' },
  { personNo: 'R002', phone: '13912345672', idDocNumber: '11010519491231002X' },
  { personNo: 'R003', phone: '13912345673', idDocNumber: null },
  { personNo: 'R004', phone: null, idDocNumber: null },
]

test.before(async () => {
  quad = await bootTestApp({ http: false })
  const { givenSchool } = await import('#tests/helpers/fixtures')
  const { CreateOrgUnit } = await import('#identity/actions/create_org_unit')
  const { SavePerson } = await import('#identity/actions/save_person')
  const { SYSTEM_ACTOR } = await import('#core/services/audit')
  await givenSchool()
  const school = await new CreateOrgUnit().handle(
    { parent: null, kind: 'school', code: 'SCMU', name: '华南示范大学' },
    SYSTEM_ACTOR
  )
  if (!school.ok) throw new Error(school.error)
  for (const person of PEOPLE) {
    const saved = await new SavePerson().handle(
      {
        personNo: person.personNo,
        name: `测试${person.personNo}`,
        identityType: 'teacher',
        orgUnit: { code: 'SCMU' },
        phone: person.phone,
        idDocType: person.idDocNumber ? 'resident_id' : null,
        idDocNumber: person.idDocNumber,
      },
      { mode: 'create' },
      SYSTEM_ACTOR
    )
    if (!saved.ok) throw new Error(JSON.stringify(saved))
  }
})

test.after.always(async () => {
  await quad?.close()
})

function keyFile(name: string) {
  return join(quad.storage, 'keys', name)
}

async function peopleRows() {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  return db
    .from('people')
    .orderBy('person_no')
    .select('person_no', 'phone_ciphertext', 'phone_index', 'id_doc_ciphertext', 'id_doc_index')
}

/** Every stored number decrypts to what was saved, and search by it finds exactly its person. */
async function everyNumberReadsBackAndIsFound(t: import('ava').ExecutionContext) {
  const { decryptPii } = await import('#identity/services/pii')
  const { searchPeople } = await import('#identity/services/people_directory')
  const rows = await peopleRows()
  for (const person of PEOPLE) {
    const row = rows.find((one) => one.person_no === person.personNo)!
    t.is(row.phone_ciphertext ? decryptPii('phone', row.phone_ciphertext) : null, person.phone)
    t.is(
      row.id_doc_ciphertext ? decryptPii('id_doc_number', row.id_doc_ciphertext) : null,
      person.idDocNumber
    )
    for (const term of [person.phone, person.idDocNumber]) {
      if (!term) continue
      const found = (await searchPeople({ q: term }, 1, 10)).all()
      t.deepEqual(
        found.map((one) => one.personNo),
        [person.personNo],
        `search by ${term.slice(0, 3)}…`
      )
    }
  }
}

test.serial('keeps old ciphertexts readable while a new key is current', async (t) => {
  const pii = await import('#identity/services/pii')
  const before = pii.encryptPii('phone', '13800138000')
  const { previous, current } = pii.replacePiiKey()
  t.not(previous, current)
  t.is(pii.ciphertextKeyId(before), previous)
  t.is(pii.decryptPii('phone', before), '13800138000', 'readable through the kept key')
  t.is(pii.ciphertextKeyId(pii.encryptPii('phone', '13800138000')), current)
  t.deepEqual(pii.retiredPiiKeyIds(), [previous])
  t.true(existsSync(keyFile(`pii-${previous}.key`)))
})

test.serial(
  'pii:rotate-key re-encrypts everyone, retires the old key and rotates the blind index',
  async (t) => {
    const { aceEnvironment, runAce } = await import('#tests/helpers/ace')
    const pii = await import('#identity/services/pii')
    const { default: db } = await import('@adonisjs/lucid/services/db')
    // The test before left a rotation half done: the command finishes it first.
    const [interrupted] = pii.retiredPiiKeyIds()
    const keyBefore = readFileSync(keyFile('pii.key'), 'utf8')
    const indexKeyBefore = readFileSync(keyFile('pii-index.key'), 'utf8')
    const rowsBefore = await peopleRows()
    t.true(
      rowsBefore.some((row) => pii.ciphertextKeyId(row.phone_ciphertext ?? '') === interrupted)
    )

    const finished = await runAce(['pii:rotate-key'], { env: aceEnvironment(quad) })
    t.is(finished.code, 0, finished.output)
    t.regex(finished.output, /interrupted/)
    t.false(existsSync(keyFile(`pii-${interrupted}.key`)), 'the old key file is gone')
    t.is(readFileSync(keyFile('pii.key'), 'utf8'), keyBefore, 'no second new key')
    await everyNumberReadsBackAndIsFound(t)

    const rotated = await runAce(['pii:rotate-key', '--blind-index', '--batch-size', '2'], {
      env: aceEnvironment(quad),
    })
    t.is(rotated.code, 0, rotated.output)
    t.regex(rotated.output, /Re-encrypting: 3 \/ 3 people/)
    const keyAfter = readFileSync(keyFile('pii.key'), 'utf8')
    t.not(keyAfter, keyBefore)
    t.not(readFileSync(keyFile('pii-index.key'), 'utf8'), indexKeyBefore)
    t.deepEqual(pii.retiredPiiKeyIds(), [], 'no old key file is left')
    t.false(existsSync(keyFile('pii-index.rotating')))

    const current = pii.currentPiiKeyId()
    const rowsAfter = await peopleRows()
    for (const row of rowsAfter) {
      for (const ciphertext of [row.phone_ciphertext, row.id_doc_ciphertext]) {
        if (ciphertext) t.is(pii.ciphertextKeyId(ciphertext), current)
      }
      const before = rowsBefore.find((one) => one.person_no === row.person_no)!
      if (row.phone_index) t.not(row.phone_index, before.phone_index, 'a new blind index')
    }
    await everyNumberReadsBackAndIsFound(t)

    const entries = await db
      .from('audit_entries')
      .whereIn('action', [
        'identity.pii_key_created',
        'identity.pii_key_rotated',
        'identity.pii_index_key_rotated',
      ])
      .orderBy('seq')
      .select('action', 'meta', 'actor_name')
    t.deepEqual(
      entries.map((entry) => entry.action),
      [
        'identity.pii_key_rotated',
        'identity.pii_key_created',
        'identity.pii_key_rotated',
        'identity.pii_index_key_rotated',
      ]
    )
    t.true(
      entries.every((entry) => entry.actor_name.startsWith('operator:')),
      'the operator who ran the command'
    )
    const text = JSON.stringify(entries)
    for (const person of PEOPLE) if (person.phone) t.false(text.includes(person.phone))
  }
)
