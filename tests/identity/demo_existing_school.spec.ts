import test from 'ava'
import { bootTestApp, type TestApp } from '#tests/helpers/app'

let quad: TestApp

test.before(async () => {
  quad = await bootTestApp({ http: false })
})

test.after.always(async () => {
  await quad?.close()
})

test('uses the school set up by the wizard and keeps its super admin', async (t) => {
  const { givenAdmin, givenSchool } = await import('#tests/helpers/fixtures')
  const { LoadDemoSchool } = await import('#identity/actions/load_demo_school')
  const { default: User } = await import('#identity/models/user')
  const { default: OrgUnit } = await import('#identity/models/org_unit')
  const { default: School } = await import('#appliance/models/school')
  const { default: AuditEntry } = await import('#core/models/audit_entry')
  await givenSchool({ name: '岭南理工学院', code: 'LNIT', timeZone: 'Asia/Shanghai' })
  const wizardAdmin = await givenAdmin('super_admin', { username: 'it-admin' })

  const result = await new LoadDemoSchool().handle({ people: 20, seed: 3, batchSize: 8 })

  t.true(result.ok)
  if (!result.ok) return
  t.deepEqual(result.value.school, { name: '岭南理工学院', code: 'LNIT', created: false })
  t.is(
    await School.query()
      .count('* as total')
      .first()
      .then((row) => Number(row?.$extras.total)),
    1
  )
  const root = await OrgUnit.query().whereNull('parent_id').firstOrFail()
  t.like(root.toJSON(), { code: 'LNIT', name: '岭南理工学院', kind: 'school' })

  t.deepEqual(result.value.accounts, [
    { username: 'it-admin', role: 'super_admin', created: false },
    { username: 'demo-auditor', role: 'auditor', created: true },
    { username: 'demo-operator', role: 'operator', created: true },
  ])
  const superAdmins = await User.query().where('role', 'super_admin')
  t.deepEqual(
    superAdmins.map((user) => user.username),
    ['it-admin'],
    'no second super admin with a published password'
  )
  const kept = await User.findByOrFail('username', 'it-admin')
  t.is(kept.password, wizardAdmin.user.password)
  t.truthy(kept.totpConfirmedAt)

  // 20 people in batches of 8: three transactions, one audit entry each.
  const batches = await AuditEntry.query()
    .where('action', 'identity.demo_people_loaded')
    .orderBy('seq')
  t.deepEqual(
    batches.map((entry) => JSON.parse(entry.meta!).count),
    [8, 8, 4]
  )
  t.is(await AuditEntry.query().where('action', 'appliance.demo_school_created').first(), null)
})
