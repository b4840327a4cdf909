import test from 'ava'
import { DateTime } from 'luxon'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import {
  BASE_DN,
  declareSlapdTests,
  PEOPLE_DN,
  startSlapd,
  SYNC_DN,
  SYNC_PASSWORD,
  type PersonEntry,
  type Slapd,
} from '#tests/helpers/slapd'
import type { DirectorySourceSettings } from '#identity/actions/save_directory_source'
import type DirectorySyncRun from '#identity/models/directory_sync_run'

/**
 * Directory sync against a real OpenLDAP server: the tests of this file run
 * in order against one slapd and one database, each building on the state
 * the one before left (the people of the first sync are the ones that
 * later change, vanish and come back).
 */

let quad: TestApp
let slapd: Slapd
let sourceId: string

const ACTOR = { type: 'user' as const, id: 'TEST', name: 'tester' }

/** Six people; any inetOrgPerson attribute can carry a field, these tests use several. */
const PEOPLE: PersonEntry[] = [
  {
    uid: 's001',
    cn: '张伟',
    employeeType: 'student',
    departmentNumber: 'C01-2301',
    businessCategory: 'M',
    mail: 'zhangwei@example.edu.cn',
    mobile: '13912340001',
    extra: { employeeNumber: 'S2023001', roomNumber: '2023' },
  },
  {
    uid: 's002',
    cn: '李娜',
    employeeType: 'student',
    departmentNumber: 'C01-2301',
    businessCategory: 'F',
    extra: { employeeNumber: 'S2023002', roomNumber: '2023' },
  },
  {
    uid: 's003',
    cn: '王芳',
    employeeType: 'graduate',
    departmentNumber: 'C01-2302',
    businessCategory: 'F',
    extra: { employeeNumber: 'S2023003' },
  },
  {
    uid: 't001',
    cn: '刘洋',
    employeeType: 'faculty',
    departmentNumber: 'C01',
    businessCategory: 'M',
    extra: { employeeNumber: 'T1001' },
  },
  {
    uid: 't002',
    cn: '陈静',
    employeeType: '教师',
    departmentNumber: 'C01',
    extra: { employeeNumber: 'T1002' },
  },
  { uid: 'f001', cn: '赵磊', employeeType: 'staff', extra: { employeeNumber: 'F3001' } },
]

function settings(overrides: Partial<DirectorySourceSettings> = {}): DirectorySourceSettings {
  return {
    name: '校园 LDAP',
    url: slapd.url,
    startTls: false,
    caCertificate: null,
    bindDn: SYNC_DN,
    bindPassword: SYNC_PASSWORD,
    baseDn: PEOPLE_DN,
    searchFilter: '(objectClass=inetOrgPerson)',
    scope: 'sub',
    // Two a page: the six people come in three pages.
    pageSize: 2,
    timeoutSeconds: 5,
    mapping: {
      personNo: 'employeeNumber',
      name: 'cn',
      gender: 'businessCategory',
      genderValues: { m: 'male', f: 'female' },
      identityType: 'employeeType',
      identityTypeValues: {
        student: 'undergraduate',
        graduate: 'postgraduate',
        faculty: 'teacher',
      },
      identityTypeFixed: null,
      orgUnit: 'departmentNumber',
      // People without a department belong to the school itself.
      orgUnitFixed: 'SCMU',
      email: 'mail',
      phone: 'mobile',
      enrollmentYear: 'roomNumber',
    },
    vanishedAction: 'suspend',
    vanishLimitPercent: 20,
    schedule: 'off',
    scheduleTime: null,
    enabled: true,
    ...overrides,
  }
}

async function saveSource(overrides: Partial<DirectorySourceSettings> = {}, target?: string) {
  const { SaveDirectorySource } = await import('#identity/actions/save_directory_source')
  const result = await new SaveDirectorySource().handle(
    settings(overrides),
    target ? { publicId: target } : null,
    ACTOR
  )
  if (!result.ok) throw new Error(JSON.stringify(result.details))
  return result.value
}

/** Starts a run and runs it here, as the ace command does. */
async function run(mode: 'preview' | 'apply', source = sourceId): Promise<DirectorySyncRun> {
  const { StartDirectorySync } = await import('#identity/actions/start_directory_sync')
  const { executeDirectoryRun } = await import('#identity/services/directory_sync')
  const started = await new StartDirectorySync().handle(
    { sourcePublicId: source, mode, trigger: 'command', enqueueJob: false },
    ACTOR
  )
  if (!started.ok) throw new Error(started.error)
  const finished = await executeDirectoryRun(started.value.publicId)
  return finished!
}

async function person(personNo: string) {
  const { default: Person } = await import('#identity/models/person')
  const found = await Person.query().where('person_no', personNo).preload('orgUnit').first()
  if (!found) throw new Error(`no person ${personNo}`)
  return found
}

async function count(table: string) {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  return Number((await db.from(table).count('* as total').first())!.total)
}

async function auditEntries(action: string) {
  const { default: db } = await import('@adonisjs/lucid/services/db')
  return db.from('audit_entries').where('action', action).orderBy('seq')
}

test.before(async () => {
  quad = await bootTestApp({ http: false })
  const { givenSchool } = await import('#tests/helpers/fixtures')
  const { CreateOrgUnit } = await import('#identity/actions/create_org_unit')
  const { DisableOrgUnit } = await import('#identity/actions/disable_org_unit')
  const { SYSTEM_ACTOR } = await import('#core/services/audit')
  await givenSchool()
  const create = new CreateOrgUnit()
  const unit = async (parent: number | null, kind: string, code: string, name: string) => {
    const created = await create.handle(
      { parent: parent === null ? null : { id: parent }, kind: kind as never, code, name },
      SYSTEM_ACTOR
    )
    if (!created.ok) throw new Error(created.error)
    return created.value
  }
  const school = await unit(null, 'school', 'SCMU', '华南示范大学')
  const college = await unit(school.id, 'college', 'C01', '计算机学院')
  await unit(college.id, 'class', 'C01-2301', '计科2301班')
  await unit(college.id, 'class', 'C01-2302', '计科2302班')
  const closed = await unit(college.id, 'class', 'C01-1901', '计科1901班')
  await new DisableOrgUnit().handle({ id: closed.id }, SYSTEM_ACTOR, '已毕业')
})

test.after.always(async () => {
  await slapd?.stop()
  await quad?.close()
})

declareSlapdTests(test, () => {
  test.before(async () => {
    slapd = await startSlapd()
    await slapd.addPeople(PEOPLE)
    sourceId = (await saveSource()).publicId
  })

  test.serial('a dry run lists the new people and writes nothing', async (t) => {
    const auditBefore = await count('audit_entries')
    const preview = await run('preview')
    t.is(preview.status, 'succeeded', JSON.stringify(preview.problem))
    t.is(preview.entriesCount, 6)
    t.is(preview.createdCount, 6)
    t.is(preview.invalidCount, 0)
    t.deepEqual(preview.diff!.created.map((row) => row.personNo).sort(), [
      'F3001',
      'S2023001',
      'S2023002',
      'S2023003',
      'T1001',
      'T1002',
    ])
    t.is(await count('people'), 0)
    t.is(await count('person_changes'), 0)
    t.is(await count('directory_links'), 0)
    t.is(await count('audit_entries'), auditBefore, 'a dry run writes no audit entry')
  })

  test.serial('the first sync creates the people in their mapped org units', async (t) => {
    const applied = await run('apply')
    t.is(applied.status, 'succeeded', JSON.stringify(applied.problem))
    t.is(applied.createdCount, 6)
    t.is(await count('people'), 6)
    t.is(await count('directory_links'), 6)

    const zhang = await person('S2023001')
    t.is(zhang.name, '张伟')
    t.is(zhang.identityType, 'undergraduate')
    t.is(zhang.gender, 'male')
    t.is(zhang.orgUnit.code, 'C01-2301')
    t.is(zhang.email, 'zhangwei@example.edu.cn')
    t.is(zhang.phoneMasked, '139****0001')
    t.is(zhang.enrollmentYear, 2023)
    t.is((await person('S2023003')).identityType, 'postgraduate')
    t.is((await person('T1001')).identityType, 'teacher')
    // A Chinese label is understood without a table entry.
    t.is((await person('T1002')).identityType, 'teacher')
    t.is((await person('T1002')).gender, 'unknown')
    // No department: the fixed unit.
    t.is((await person('F3001')).orgUnit.code, 'SCMU')

    const summaries = await auditEntries('directory.sync_applied')
    t.is(summaries.length, 1)
    t.is(summaries[0].outcome, 'success')
    t.is(JSON.parse(summaries[0].meta).counts.created, 6)
    t.is((await auditEntries('people.created')).length, 6)
  })

  test.serial('a second sync of an unchanged directory changes nothing', async (t) => {
    const changesBefore = await count('person_changes')
    const applied = await run('apply')
    t.is(applied.status, 'succeeded')
    t.is(applied.unchangedCount, 6)
    t.is(applied.createdCount + applied.updatedCount + applied.vanishedCount, 0)
    t.is(await count('person_changes'), changesBefore)
  })

  test.serial('a changed attribute updates the person and their history shows it', async (t) => {
    await slapd.modify('s002', { cn: '李娜娜', departmentNumber: 'C01-2302' })
    const preview = await run('preview')
    t.is(preview.updatedCount, 1)
    const row = preview.diff!.updated[0]
    t.is(row.personNo, 'S2023002')
    t.deepEqual(
      row.fields!.map((field) => [field.field, field.before, field.after]),
      [
        ['name', '李娜', '李娜娜'],
        ['orgUnit', '计科2301班 (C01-2301)', '计科2302班 (C01-2302)'],
      ]
    )
    t.is((await person('S2023002')).name, '李娜', 'the dry run left the person alone')

    const applied = await run('apply')
    t.is(applied.updatedCount, 1)
    t.is(applied.unchangedCount, 5)
    const li = await person('S2023002')
    t.is(li.name, '李娜娜')
    t.is(li.orgUnit.code, 'C01-2302')
    const { default: PersonChange } = await import('#identity/models/person_change')
    const history = await PersonChange.query().where('person_id', li.id).orderBy('id', 'desc')
    t.is(history[0].kind, 'updated')
    t.deepEqual(history[0].changes.name, ['李娜', '李娜娜'])
    t.is(history[0].actorName, 'tester')
  })

  test.serial('invalid entries are explained and the valid ones still sync', async (t) => {
    await slapd.addPeople([
      { uid: 'bad1', cn: '外星人', employeeType: 'alien', extra: { employeeNumber: 'X0001' } },
      {
        uid: 'bad2',
        cn: '孙悟空',
        employeeType: 'student',
        departmentNumber: 'X99',
        extra: { employeeNumber: 'X0002' },
      },
      {
        uid: 'bad3',
        cn: '猪八戒',
        employeeType: 'student',
        mail: 'not-an-email',
        extra: { employeeNumber: 'X0003' },
      },
      { uid: 'dup1', cn: '沙僧', employeeType: 'student', extra: { employeeNumber: 'D0001' } },
      { uid: 'dup2', cn: '沙和尚', employeeType: 'student', extra: { employeeNumber: 'd0001' } },
      {
        uid: 'bad4',
        cn: '唐僧',
        employeeType: 'student',
        extra: { employeeNumber: 'X0004', roomNumber: '20x5' },
      },
      { uid: 'bad5', cn: '白龙马', employeeType: 'student' },
      {
        uid: 'bad6',
        cn: '旧班学生',
        employeeType: 'student',
        departmentNumber: 'C01-1901',
        extra: { employeeNumber: 'X0006' },
      },
      {
        uid: 'new1',
        cn: '周杰',
        employeeType: 'student',
        departmentNumber: 'C01-2301',
        extra: { employeeNumber: 'S2023004' },
      },
    ])
    const applied = await run('apply')
    t.is(applied.status, 'succeeded')
    t.is(applied.entriesCount, 15)
    t.is(applied.createdCount, 1)
    t.is(applied.invalidCount, 8)
    t.is((await person('S2023004')).name, '周杰')

    const reasons = Object.fromEntries(
      applied.diff!.invalid.map((row) => [
        row.dn.split(',')[0],
        row.errors.map((error) => `${error.field}:${error.code}`).join(' '),
      ])
    )
    t.deepEqual(reasons, {
      'uid=bad1': 'identityType:value_unmapped',
      'uid=bad2': 'orgUnit:org_unit_unknown',
      'uid=bad3': 'email:email_format',
      'uid=dup1': 'personNo:duplicate_person_no',
      'uid=dup2': 'personNo:duplicate_person_no',
      'uid=bad4': 'enrollmentYear:enrollment_year_format',
      'uid=bad5': 'personNo:missing_attribute',
      'uid=bad6': 'orgUnit:org_unit_disabled',
    })
    const alien = applied.diff!.invalid.find((row) => row.dn.startsWith('uid=bad1'))!
    t.deepEqual(alien.errors[0].params, { attribute: 'employeeType', value: 'alien' })

    const { default: i18nManager } = await import('@adonisjs/i18n/services/main')
    const { invalidRowMessages } = await import('#identity/services/directory_messages')
    const zh = invalidRowMessages(alien, i18nManager.locale('zh-CN'))
    t.is(zh[0], '属性 employeeType 的值“alien”无法识别为身份类型，请在对照表中添加。')
    const en = invalidRowMessages(alien, i18nManager.locale('en'))
    t.is(
      en[0],
      'Identity type: the value “alien” of employeeType is unknown; add it to the value table.'
    )

    for (const uid of ['bad1', 'bad2', 'bad3', 'dup1', 'dup2', 'bad4', 'bad5', 'bad6'])
      await slapd.remove(uid)
  })

  test.serial(
    'a vanished person is suspended, and made active again when they return',
    async (t) => {
      await slapd.remove('s003')
      const applied = await run('apply')
      t.is(applied.status, 'succeeded', JSON.stringify(applied.problem))
      t.is(applied.vanishedCount, 1)
      t.deepEqual(
        applied.diff!.vanished.map((row) => [row.personNo, row.outcome]),
        [['S2023003', 'suspended']]
      )
      const wang = await person('S2023003')
      t.is(wang.status, 'suspended')
      const { default: PersonChange } = await import('#identity/models/person_change')
      const latest = await PersonChange.query()
        .where('person_id', wang.id)
        .orderBy('id', 'desc')
        .first()
      t.is(latest!.kind, 'status_changed')
      t.is(latest!.reason, '已从目录源“校园 LDAP”中消失（目录同步）')

      // Gone people are not counted again by the next run.
      const again = await run('apply')
      t.is(again.vanishedCount, 0)

      await slapd.addPeople([PEOPLE[2]])
      const back = await run('apply')
      t.is(back.updatedCount, 1)
      t.deepEqual(
        back.diff!.updated[0].fields!.map((field) => [field.field, field.after]),
        [['status', 'active']]
      )
      t.is((await person('S2023003')).status, 'active')
    }
  )

  test.serial('with "mark left" a vanished person is marked as left', async (t) => {
    await saveSource({ vanishedAction: 'left', bindPassword: undefined }, sourceId)
    await slapd.remove('f001')
    const applied = await run('apply')
    t.is(applied.status, 'succeeded', JSON.stringify(applied.problem))
    t.deepEqual(
      applied.diff!.vanished.map((row) => [row.personNo, row.outcome]),
      [['F3001', 'left']]
    )
    t.is((await person('F3001')).status, 'left')
  })

  test.serial('the vanish limit blocks a run that would remove too many people', async (t) => {
    const changesBefore = await count('person_changes')
    for (const uid of ['s001', 's002']) await slapd.remove(uid)
    const applied = await run('apply')
    t.is(applied.status, 'blocked')
    t.is(applied.problem!.code, 'too_many_vanished')
    t.deepEqual(applied.problem!.params, { count: 2, total: 6, percent: 33.3, limit: 20 })
    t.is(applied.vanishedCount, 2, 'the diff still shows who would vanish')
    t.is((await person('S2023001')).status, 'active')
    t.is((await person('S2023002')).status, 'active')
    t.is(await count('person_changes'), changesBefore)
    const summaries = await auditEntries('directory.sync_applied')
    t.is(summaries.at(-1).outcome, 'failure')

    await slapd.addPeople([PEOPLE[0], { ...PEOPLE[1], cn: '李娜娜', departmentNumber: 'C01-2302' }])
  })

  test.serial('an empty directory blocks the run and suspends nobody', async (t) => {
    const { default: db } = await import('@adonisjs/lucid/services/db')
    const changesBefore = await count('person_changes')
    await saveSource({ searchFilter: '(employeeType=nobody)', bindPassword: undefined }, sourceId)
    const applied = await run('apply')
    t.is(applied.status, 'blocked')
    t.is(applied.problem!.code, 'empty_directory')
    t.is(await count('person_changes'), changesBefore)
    const active = await db.from('people').where('status', 'active').count('* as total').first()
    t.is(Number(active!.total), 6)
    await saveSource({ vanishedAction: 'left', bindPassword: undefined }, sourceId)
  })

  test.serial('a wrong bind password fails with a clear reason and writes nothing', async (t) => {
    const wrong = await saveSource({ name: '密码错误的目录', bindPassword: 'not-the-password' })
    const changesBefore = await count('person_changes')
    const linksBefore = await count('directory_links')
    const applied = await run('apply', wrong.publicId)
    t.is(applied.status, 'failed')
    t.is(applied.problem!.code, 'bind_failed')
    t.is(await count('person_changes'), changesBefore)
    t.is(await count('directory_links'), linksBefore)

    // The password is stored encrypted and appears in no run, audit entry or log row.
    const { default: db } = await import('@adonisjs/lucid/services/db')
    const stored = await db.from('directory_sources').where('id', wrong.id).first()
    t.not(stored.bind_password, 'not-the-password')
    const everything = JSON.stringify([
      await db.from('directory_sync_runs'),
      await db.from('audit_entries'),
      await db.from('jobs'),
    ])
    t.false(everything.includes('not-the-password'))
    t.false(everything.includes(SYNC_PASSWORD))
    const summary = (await auditEntries('directory.sync_applied')).at(-1)
    t.is(summary.outcome, 'failure')
    t.is(JSON.parse(summary.meta).problem.code, 'bind_failed')
  })

  test.serial(
    'the connection test reports an unreachable server and a wrong base DN',
    async (t) => {
      const { TestDirectoryConnection } =
        await import('#identity/actions/test_directory_connection')
      const tester = new TestDirectoryConnection()
      const good = await tester.handle(sourceId)
      t.true(good.ok)
      if (good.ok) {
        t.true(good.value.found >= 2)
        t.true(good.value.samples.every((sample) => sample.personNo && sample.name))
      }
      const closed = await saveSource({ name: '关闭的端口', url: 'ldap://127.0.0.1:1' })
      const refused = await tester.handle(closed.publicId)
      t.false(refused.ok)
      if (!refused.ok) t.is(refused.error, 'connect_failed')
      const missing = await saveSource({ name: '错误的基准', baseDn: `ou=nobody,${BASE_DN}` })
      const notFound = await tester.handle(missing.publicId)
      t.false(notFound.ok)
      if (!notFound.ok) t.is(notFound.error, 'base_dn_not_found')
    }
  )

  test.serial('ldaps and StartTLS verify the server with the given CA certificate', async (t) => {
    const { TestDirectoryConnection } = await import('#identity/actions/test_directory_connection')
    const tester = new TestDirectoryConnection()
    const ldaps = await saveSource({
      name: 'LDAPS',
      url: slapd.ldapsUrl,
      caCertificate: slapd.caPem,
    })
    t.true((await tester.handle(ldaps.publicId)).ok)
    const startTls = await saveSource({
      name: 'StartTLS',
      startTls: true,
      caCertificate: slapd.caPem,
    })
    t.true((await tester.handle(startTls.publicId)).ok)
    const untrusted = await saveSource({ name: 'LDAPS 无 CA', url: slapd.ldapsUrl })
    const refused = await tester.handle(untrusted.publicId)
    t.false(refused.ok)
    if (!refused.ok) t.is(refused.error, 'tls_failed')
  })

  test.serial('a source whose schedule is due gets one apply run per slot', async (t) => {
    const { startDueDirectorySyncs, dueSlot } =
      await import('#identity/services/directory_schedule')
    const { default: DirectorySyncRun } = await import('#identity/models/directory_sync_run')
    const scheduled = await saveSource({
      name: '定时目录',
      schedule: 'hourly',
      vanishLimitPercent: 100,
    })
    // The slot that began before the schedule was set is not run…
    t.deepEqual(await startDueDirectorySyncs(new Date()), [])
    // …the next one is, once.
    const nextHour = DateTime.now().plus({ hours: 1 }).startOf('hour').plus({ minutes: 2 })
    const started = await startDueDirectorySyncs(nextHour.toJSDate())
    t.is(started.length, 1)
    t.deepEqual(await startDueDirectorySyncs(nextHour.plus({ minutes: 5 }).toJSDate()), [])
    const runRow = await DirectorySyncRun.findByOrFail('public_id', started[0])
    t.is(runRow.sourceId, scheduled.id)
    t.is(runRow.trigger, 'schedule')
    t.is(runRow.mode, 'apply')
    t.truthy(runRow.jobPublicId)

    const zone = 'Asia/Shanghai'
    const source = {
      enabled: true,
      schedule: 'daily' as const,
      scheduleTime: '02:00',
      scheduledFrom: DateTime.fromISO('2026-03-01T12:00', { zone }),
    }
    const at = (iso: string) => DateTime.fromISO(iso, { zone })
    t.is(dueSlot(source, null, at('2026-03-02T01:59')), null)
    t.is(dueSlot(source, null, at('2026-03-02T02:03'))!.toISO(), at('2026-03-02T02:00').toISO())
    t.is(dueSlot(source, at('2026-03-02T02:00'), at('2026-03-02T23:00')), null)
    t.is(dueSlot(source, at('2026-03-02T02:00'), at('2026-03-05T09:00'))!.day, 5)
    t.is(dueSlot({ ...source, enabled: false }, null, at('2026-03-02T02:03')), null)
  })
})
