/**
 * Given-state builders for the portal's tests: people with or without a
 * portal password, and sign-in through the real forms. Import after the app
 * has booted.
 */
import { DateTime } from 'luxon'
import encryption from '@adonisjs/core/services/encryption'
import db from '@adonisjs/lucid/services/db'
import { SYSTEM_ACTOR } from '#core/services/audit'
import { CreateOrgUnit } from '#identity/actions/create_org_unit'
import type OrgUnit from '#identity/models/org_unit'
import Person, { type PersonStatus } from '#identity/models/person'
import PortalCredential from '#identity/models/portal_credential'
import { hashPortalPassword } from '#identity/services/portal_passwords'
import type { TestClient } from '#tests/helpers/http'

let unit: OrgUnit | undefined
let counter = 0

async function schoolUnit(): Promise<OrgUnit> {
  if (unit) return unit
  const result = await new CreateOrgUnit().handle(
    { parent: null, kind: 'school', code: 'SCMU', name: '华南示范大学' },
    SYSTEM_ACTOR
  )
  if (!result.ok) throw new Error(result.error)
  unit = result.value
  return unit
}

export const PASSWORD = 'Campus2026pass'

export interface GivenPerson {
  person: Person
  personNo: string
  password: string
}

/** Given a person, by default active, with an own portal password (no change required). */
export async function givenPerson(
  options: {
    status?: PersonStatus
    email?: string | null
    portalPassword?: string | null
    mustChange?: boolean
    totpSecret?: string
    name?: string
  } = {}
): Promise<GivenPerson> {
  counter += 1
  const personNo = `P${process.pid}${String(counter).padStart(3, '0')}`
  const person = await Person.create({
    personNo,
    name: options.name ?? `测试人员${counter}`,
    gender: 'unknown',
    identityType: 'undergraduate',
    status: options.status ?? 'active',
    orgUnitId: (await schoolUnit()).id,
    enrollmentYear: 2024,
    email: options.email ?? null,
  })
  const password = options.portalPassword === undefined ? PASSWORD : options.portalPassword
  if (password !== null) {
    await PortalCredential.create({
      personId: person.id,
      passwordHash: await hashPortalPassword(password),
      mustChangePassword: options.mustChange ?? false,
      passwordChangedAt: DateTime.utc(),
      totpSecret: options.totpSecret ? encryption.encrypt(options.totpSecret) : null,
      totpEnabledAt: options.totpSecret ? DateTime.utc() : null,
      totpLastStep: null,
      failedCount: 0,
    })
  }
  return { person, personNo, password: password ?? '' }
}

/** Posts the sign-in form (after loading it, for the CSRF token). */
export async function postSignIn(
  client: TestClient,
  personNo: string,
  password: string,
  extra: Record<string, string> = {}
) {
  await client.get('/portal/login')
  return client.post('/portal/login', { personNo, password, ...extra })
}

/** Signs a person in through the form and checks that a session started. */
export async function portalSignIn(
  client: TestClient,
  given: GivenPerson,
  extra: Record<string, string> = {}
) {
  const response = await postSignIn(client, given.personNo, given.password, extra)
  if (response.location !== '/portal')
    throw new Error(`sign-in failed: ${response.status} ${response.location}`)
  return response
}

/** The flashed message of a kind on a page, trimmed. */
export function flashOf(html: string, kind: 'error' | 'notice' = 'error') {
  return new RegExp(`data-flash="${kind}">\\s*([^<]+?)\\s*<`).exec(html)?.[1] ?? null
}

/** Audit actions about one subject, oldest first. */
export async function auditOf(subjectId: string) {
  const rows = await db
    .from('audit_entries')
    .where('subject_id', subjectId)
    .orderBy('seq')
    .select('action', 'actor_type', 'actor_id', 'outcome', 'meta')
  return rows.map((row) => ({
    action: String(row.action),
    actorType: String(row.actor_type),
    actorId: row.actor_id as string | null,
    outcome: String(row.outcome),
    meta: row.meta ? JSON.parse(row.meta) : null,
  }))
}

/** The portal sessions of a person, newest first. */
export async function sessionsOf(person: Person) {
  const { default: PortalSession } = await import('#identity/models/portal_session')
  return PortalSession.query().where('person_id', person.id).orderBy('id', 'desc')
}
