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
import type { Role } from '#core/services/permissions'
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

/** Given a console account with a confirmed TOTP factor. */
export async function givenAdmin(
  role: Role = 'super_admin',
  attributes: Partial<User> = {}
): Promise<GivenAdmin> {
  counter += 1
  const username = attributes.username ?? `admin${counter}_${process.pid}`
  const password = 'Correct-horse-42-battery'
  const totpSecret = generateTotpSecret()
  const user = await User.create({
    username,
    displayName: `管理员${counter}`,
    password,
    role,
    totpSecret: encryption.encrypt(totpSecret),
    totpConfirmedAt: DateTime.utc(),
    ...attributes,
  })
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
