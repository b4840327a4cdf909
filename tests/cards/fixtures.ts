/**
 * Given-state builders for the cards tests: a small registry of people in
 * one org unit. Import after the app has booted.
 */
import db from '@adonisjs/lucid/services/db'
import { DateTime } from 'luxon'
import type Person from '#identity/models/person'
import type { IdentityType, PersonStatus } from '#identity/models/person'

let unitId: number | null = null

async function unit(): Promise<number> {
  if (unitId) return unitId
  const { insertOrgUnit } = await import('#identity/services/org_tree')
  const school = await db.transaction((trx) =>
    insertOrgUnit(trx, null, { kind: 'school', code: 'CARDS-S', name: '计算机学院' })
  )
  unitId = school.id
  return unitId
}

export interface GivenPerson {
  no: string
  type?: IdentityType
  status?: PersonStatus
  graduation?: string | null
  name?: string
}

/** Given people in the registry (by person number); returns them by number. */
export async function givenPeople(rows: GivenPerson[]): Promise<Map<string, Person>> {
  const { default: PersonModel } = await import('#identity/models/person')
  const orgUnitId = await unit()
  const people = new Map<string, Person>()
  for (const row of rows) {
    const person = await PersonModel.create({
      personNo: row.no,
      name: row.name ?? `测试${row.no}`,
      gender: 'unknown',
      identityType: row.type ?? 'undergraduate',
      status: row.status ?? 'active',
      orgUnitId,
      enrollmentYear: null,
      email: null,
      expectedGraduationDate: row.graduation ? DateTime.fromISO(row.graduation) : null,
    })
    people.set(row.no, person)
  }
  return people
}

/** The card type with this code (the defaults: student, teacher, staff, alumni, temporary, visitor). */
export async function cardType(code: string) {
  const { default: CardType } = await import('#cards/models/card_type')
  return CardType.findByOrFail('code', code)
}

/** Live cards (pending, active or frozen) of a person, by type code. */
export async function liveCards(personId: number) {
  const rows = await db
    .from('cards')
    .join('card_types', 'card_types.id', 'cards.card_type_id')
    .where('cards.person_id', personId)
    .whereIn('cards.state', ['pending_activation', 'active', 'frozen'])
    .select('card_types.code', 'cards.state', 'cards.public_id')
  return rows
}

/** The audit actions recorded so far, oldest first. */
export async function auditActions(): Promise<string[]> {
  const rows = await db.from('audit_entries').orderBy('seq').select('action')
  return rows.map((row) => row.action)
}

/** A card's history, oldest first. */
export async function history(cardId: number) {
  return db
    .from('card_events')
    .where('card_id', cardId)
    .orderBy('id')
    .select('event', 'from_state', 'to_state', 'reason', 'related_card_id')
}

/** Posts multipart/form-data with the client's session and CSRF token (file uploads). */
export async function postMultipart(
  client: import('#tests/helpers/http').TestClient,
  baseUrl: string,
  path: string,
  fields: Record<string, string | string[] | undefined>,
  files: Record<string, { bytes: Buffer; name: string }> = {}
) {
  const form = new FormData()
  if (client.csrfToken) form.set('_csrf', client.csrfToken)
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) continue
    for (const item of Array.isArray(value) ? value : [value]) form.append(name, item)
  }
  for (const [name, file] of Object.entries(files)) {
    form.set(name, new Blob([new Uint8Array(file.bytes)]), file.name)
  }
  const cookies = (client as unknown as { cookieHeader(): string }).cookieHeader()
  const response = await fetch(baseUrl + path, {
    method: 'POST',
    redirect: 'manual',
    body: form,
    headers: { cookie: cookies, ...(client.lastPage ? { referer: client.lastPage } : {}) },
  })
  return {
    status: response.status,
    location: response.headers.get('location'),
    text: await response.text(),
  }
}

let accounts = 0

/**
 * Given a console account with a confirmed TOTP factor, created inside a
 * transaction so that the grants of its role are written with it.
 */
export async function givenAccount(
  role: string
): Promise<import('#tests/helpers/fixtures').GivenAdmin> {
  const { default: User } = await import('#identity/models/user')
  const { default: encryption } = await import('@adonisjs/core/services/encryption')
  const { generateTotpSecret } = await import('#core/services/totp')
  accounts += 1
  const username = `cards${accounts}_${process.pid}`
  const password = 'Correct-horse-42-battery'
  const totpSecret = generateTotpSecret()
  const user = await db.transaction((trx) =>
    User.create(
      {
        username,
        displayName: `卡务${accounts}`,
        password,
        role,
        totpSecret: encryption.encrypt(totpSecret),
        totpConfirmedAt: DateTime.utc(),
      },
      { client: trx }
    )
  )
  const reloaded = await User.findOrFail(user.id)
  return { user: reloaded, username, password, totpSecret }
}
