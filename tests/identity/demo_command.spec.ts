import test from 'ava'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { bootTestApp, type TestApp } from '#tests/helpers/app'

let quad: TestApp

const APP_ROOT = fileURLToPath(new URL('../../', import.meta.url))

test.before(async () => {
  quad = await bootTestApp({ http: false })
})

test.after.always(async () => {
  await quad?.close()
})

/** Runs the command in this process through the ace kernel, with its output captured. */
async function ace(args: string[]) {
  const kernel = await quad.app.container.make('ace')
  kernel.ui.switchMode('raw')
  const command = await kernel.exec('appliance:demo', args)
  const output = kernel.ui.logger
    .getLogs()
    .map((log) => log.message)
    .join('\n')
  kernel.ui.logger.flushLogs()
  return { exitCode: command.exitCode, error: command.error, output }
}

test.serial('loads the demo school from the command line', async (t) => {
  const { default: School } = await import('#appliance/models/school')
  const { default: User } = await import('#identity/models/user')
  const { default: OrgUnit } = await import('#identity/models/org_unit')
  const { default: Person } = await import('#identity/models/person')
  const { default: AuditEntry } = await import('#core/models/audit_entry')
  const { default: hash } = await import('@adonisjs/core/services/hash')
  const { pinyinInitials } = await import('#identity/services/pinyin_initials')
  const { planDemoSchool } = await import('#identity/services/demo_school')

  // The real CLI in its own process, on this test's database and storage root.
  const run = spawnSync(
    process.execPath,
    ['ace', 'appliance:demo', '--people', '60', '--seed', '7', '--no-ansi'],
    { cwd: APP_ROOT, env: process.env, encoding: 'utf8', timeout: 60_000 }
  )
  t.is(run.status, 0, run.stderr)
  t.regex(run.stdout, /Demo school loaded/)
  t.regex(run.stdout, /demo-admin\s.*super_admin\s.*Quad-demo-2026/)
  t.regex(run.stdout, /\/login/)

  const school = await School.findOrFail(1)
  t.like(school.toJSON(), { name: '华南示范大学', code: 'SCMU', timeZone: 'Asia/Shanghai' })

  const units = await OrgUnit.query().orderBy('id')
  const byKind = (kind: string) => units.filter((unit) => unit.kind === kind)
  t.deepEqual(
    Object.fromEntries(
      ['school', 'campus', 'college', 'department', 'major', 'grade', 'class'].map((kind) => [
        kind,
        byKind(kind).length,
      ])
    ),
    { school: 1, campus: 2, college: 6, department: 9, major: 17, grade: 68, class: 92 }
  )
  const byId = new Map(units.map((unit) => [unit.id, unit]))
  const parentKinds: Record<string, string[]> = {
    campus: ['school'],
    department: ['school'],
    college: ['campus'],
    major: ['college'],
    grade: ['major'],
    class: ['grade'],
  }
  for (const unit of units) {
    if (unit.kind === 'school') {
      t.is(unit.parentId, null)
      t.is(unit.path, `/${unit.id}/`)
      t.is(unit.depth, 0)
      continue
    }
    const parent = byId.get(unit.parentId!)!
    t.true(
      parentKinds[unit.kind].includes(parent.kind),
      `${unit.kind} ${unit.code} under ${parent.kind}`
    )
    t.is(unit.path, `${parent.path}${unit.id}/`)
    t.is(unit.depth, parent.depth + 1)
  }

  // What was written is exactly the plan for that seed: the load is deterministic.
  const plan = planDemoSchool({
    people: 60,
    seed: 7,
    school: { code: 'SCMU', name: '华南示范大学' },
  })
  const people = await Person.query().preload('orgUnit').orderBy('id')
  t.is(people.length, 60)
  t.deepEqual(
    people.map((person) => ({
      personNo: person.personNo,
      name: person.name,
      gender: person.gender,
      identityType: person.identityType,
      status: person.status,
      unitCode: person.orgUnit.code,
      enrollmentYear: person.enrollmentYear,
      email: person.email,
    })),
    plan.people
  )
  t.true(people.every((person) => person.namePinyinInitials === pinyinInitials(person.name)))
  t.is(new Set(people.map((person) => person.publicId)).size, 60)

  const accounts = await User.query().orderBy('username')
  t.deepEqual(
    accounts.map((user) => [user.username, user.role]),
    [
      ['demo-admin', 'super_admin'],
      ['demo-auditor', 'auditor'],
      ['demo-operator', 'operator'],
    ]
  )
  for (const account of accounts) {
    t.is(account.totpConfirmedAt, null, 'TOTP is enrolled at first sign-in')
    t.is(account.totpSecret, null)
    t.true(await hash.verify(account.password, 'Quad-demo-2026'))
  }

  const actions = (await AuditEntry.query().orderBy('seq')).map((entry) => entry.action)
  t.deepEqual(actions, [
    'appliance.demo_school_created',
    'identity.demo_org_loaded',
    'identity.demo_people_loaded',
    'identity.demo_admins_created',
  ])
})

test.serial('refuses to load into a registry that holds anything', async (t) => {
  const { default: Person } = await import('#identity/models/person')
  const { default: OrgUnit } = await import('#identity/models/org_unit')
  const { default: AuditEntry } = await import('#core/models/audit_entry')
  const auditBefore = await AuditEntry.query().count('* as total').first()

  const refused = await ace(['--people', '60', '--seed', '7'])
  t.is(refused.exitCode, 1)
  t.regex(refused.output, /not empty \(195 org units, 60 people\)/)

  const skipped = await ace(['--people', '60', '--if-empty'])
  t.is(skipped.exitCode, 0)
  t.regex(skipped.output, /Demo not loaded/)

  t.is(Number((await Person.query().count('* as total').first())?.$extras.total), 60)
  t.is(Number((await OrgUnit.query().count('* as total').first())?.$extras.total), 195)
  const auditAfter = await AuditEntry.query().count('* as total').first()
  t.is(auditAfter?.$extras.total, auditBefore?.$extras.total, 'a refused load writes nothing')
})

test.serial('rejects a head count out of range', async (t) => {
  const result = await ace(['--people', '0'])
  t.is(result.exitCode, 1)
  t.regex(result.output, /--people must be a whole number from 1 to 20000/)
})
