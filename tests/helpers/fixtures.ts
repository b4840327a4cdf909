/**
 * Given-state builders shared by the modules' tests. Import after the app has
 * booted (they use container services).
 */
import db from '@adonisjs/lucid/services/db'
import encryption from '@adonisjs/core/services/encryption'
import { DateTime } from 'luxon'
import School from '#appliance/models/school'
import User from '#identity/models/user'
import { forgetSchool } from '#appliance/services/school_settings'
import { generateTotpSecret, totpNow } from '#core/services/totp'
import { isBuiltInRole, type BuiltInRole } from '#core/services/permissions'
import Role from '#identity/models/role'
import AdminGrant from '#identity/models/admin_grant'
import OrgUnit from '#identity/models/org_unit'
import type { TestClient } from './http.js'

let counter = 0

/** Given a school that has completed setup. */
export async function givenSchool(
  attributes: Partial<Pick<School, 'name' | 'code' | 'timeZone' | 'defaultLocale'>> = {}
) {
  const existing = await School.find(1)
  if (existing) return existing
  const school = await School.create({
    id: 1,
    name: '华南示范大学',
    code: 'SCMU',
    timeZone: 'Asia/Shanghai',
    defaultLocale: 'zh-CN',
    ...attributes,
  })
  forgetSchool()
  return school
}

export interface GivenAdmin {
  user: User
  username: string
  password: string
  totpSecret: string
}

/**
 * Given a console account with a confirmed TOTP factor, holding `role` (a
 * built-in role, or the key of a custom one) for the whole school, or only
 * for the subtree under `scope.unit` (the unit or its code).
 */
export async function givenAdmin(
  role: BuiltInRole | (string & {}) = 'super_admin',
  attributes: Partial<User> = {},
  scope: { unit?: OrgUnit | string } = {}
): Promise<GivenAdmin> {
  counter += 1
  const username = attributes.username ?? `admin${counter}_${process.pid}`
  const password = 'Correct-horse-42-battery'
  const totpSecret = generateTotpSecret()
  const unit =
    typeof scope.unit === 'string'
      ? await OrgUnit.findByOrFail('code', scope.unit)
      : (scope.unit ?? null)
  const user = new User()
  user.merge({
    username,
    displayName: `管理员${counter}`,
    password,
    role,
    totpSecret: encryption.encrypt(totpSecret),
    totpConfirmedAt: DateTime.utc(),
    ...attributes,
  })
  // A built-in role for the whole school is granted by the model, as for
  // every account created with a role name; anything else is granted here.
  const grantedHere = unit !== null || !isBuiltInRole(role)
  user.grantsGivenByCaller = grantedHere
  await user.save()
  if (grantedHere) {
    const held = await Role.findByOrFail('key', role)
    await AdminGrant.create({ userId: user.id, roleId: held.id, orgUnitId: unit?.id ?? null })
  }
  return { user, username, password, totpSecret }
}

/**
 * Signs the client in through the real forms: password, then TOTP. Clears
 * the account's last-used TOTP step first so that two sign-ins within one
 * 30-second window are possible in tests.
 */
export async function signIn(client: TestClient, admin: GivenAdmin) {
  await db.from('users').where('id', admin.user.id).update({ totp_last_step: null })
  await client.get('/login')
  const first = await client.post('/login', { username: admin.username, password: admin.password })
  if (first.location !== '/login/totp')
    throw new Error(`password step failed: ${first.status} ${first.location}`)
  await client.get('/login/totp')
  const second = await client.post('/login/totp', { code: totpNow(admin.totpSecret) })
  if (second.location !== '/console')
    throw new Error(`TOTP step failed: ${second.status} ${second.location}`)
  return second
}
