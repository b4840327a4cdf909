import test from 'ava'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import { TestClient } from '#tests/helpers/http'
import { aceEnvironment, runAce } from '#tests/helpers/ace'
import {
  declareSlapdTests,
  PEOPLE_DN,
  startSlapd,
  SYNC_DN,
  SYNC_PASSWORD,
  type Slapd,
} from '#tests/helpers/slapd'
import type { GivenAdmin } from '#tests/helpers/fixtures'

/**
 * The directory sync console and the ace command, against a real slapd:
 * create a source through the form, test it, dry run, apply, and the same
 * from the command line.
 */

let quad: TestApp
let slapd: Slapd
let superAdmin: GivenAdmin
let auditor: GivenAdmin

test.before(async () => {
  quad = await bootTestApp()
  const { givenSchool, givenAdmin } = await import('#tests/helpers/fixtures')
  const { CreateOrgUnit } = await import('#identity/actions/create_org_unit')
  const { SYSTEM_ACTOR } = await import('#core/services/audit')
  await givenSchool()
  superAdmin = await givenAdmin('super_admin')
  auditor = await givenAdmin('auditor')
  const school = await new CreateOrgUnit().handle(
    { parent: null, kind: 'school', code: 'SCMU', name: '华南示范大学' },
    SYSTEM_ACTOR
  )
  if (!school.ok) throw new Error(school.error)
  const unit = await new CreateOrgUnit().handle(
    { parent: { id: school.value.id }, kind: 'college', code: 'C01', name: '计算机学院' },
    SYSTEM_ACTOR
  )
  if (!unit.ok) throw new Error(unit.error)
})

test.after.always(async () => {
  await slapd?.stop()
  await quad?.close()
})

async function signedIn(admin: GivenAdmin) {
  const { signIn } = await import('#tests/helpers/fixtures')
  const client = new TestClient(quad.baseUrl)
  await signIn(client, admin)
  return client
}

/** The form as an operator fills it for the test directory. */
function form(overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const fields: Record<string, string | undefined> = {
    name: '校园目录',
    url: slapd.url,
    bindDn: SYNC_DN,
    bindPassword: SYNC_PASSWORD,
    timeoutSeconds: '5',
    caCertificate: '',
    baseDn: PEOPLE_DN,
    searchFilter: '(objectClass=inetOrgPerson)',
    scope: 'sub',
    pageSize: '100',
    mapPersonNo: 'uid',
    mapName: 'cn',
    mapIdentityType: 'employeeType',
    mapIdentityTypeFixed: '',
    mapIdentityTypeValues: 'student=undergraduate\nfaculty=教师',
    mapOrgUnit: 'departmentNumber',
    mapOrgUnitFixed: 'SCMU',
    mapGender: '',
    mapGenderValues: '',
    mapEmail: 'mail',
    mapPhone: 'mobile',
    mapEnrollmentYear: '',
    vanishedAction: 'suspend',
    vanishLimitPercent: '20',
    schedule: 'daily',
    scheduleTime: '02:00',
    enabled: '1',
    ...overrides,
  }
  return Object.fromEntries(
    Object.entries(fields).filter((entry): entry is [string, string] => entry[1] !== undefined)
  )
}

/** Runs the queued jobs as a worker would. */
async function runJobs() {
  const { runDueJobs } = await import('#appliance/services/jobs')
  return runDueJobs({ workerId: 'test-worker' })
}

async function sourceNamed(name: string) {
  const { default: DirectorySource } = await import('#identity/models/directory_source')
  return DirectorySource.findByOrFail('name', name)
}

test.serial(
  'sends visitors to the login page and refuses accounts without the permission',
  async (t) => {
    const anonymous = new TestClient(quad.baseUrl)
    const page = await anonymous.get('/console/directory')
    t.is(page.status, 302)
    t.regex(page.location ?? '', /\/login$/)

    const client = await signedIn(auditor)
    t.is((await client.get('/console/directory')).status, 403)
    t.is((await client.get('/console/directory/sources/new')).status, 403)
    await client.get('/console')
    t.is((await client.post('/console/directory/sources', { name: 'x' })).status, 403)
    t.notRegex((await client.get('/console')).text, /href="\/console\/directory"/)
  }
)

declareSlapdTests(test, () => {
  test.before(async () => {
    slapd = await startSlapd()
    await slapd.addPeople([
      {
        uid: 'S2024001',
        cn: '黄磊',
        employeeType: 'student',
        departmentNumber: 'C01',
        mobile: '13800138001',
      },
      { uid: 'S2024002', cn: '吴敏', employeeType: 'student', departmentNumber: 'C01' },
      { uid: 'T2001', cn: '郑老师', employeeType: 'faculty' },
      { uid: 'BAD01', cn: '无名氏', employeeType: 'alien' },
    ])
  })

  test.serial('the form explains every wrong setting next to its field', async (t) => {
    const client = await signedIn(superAdmin)
    const page = await client.get('/console/directory/sources/new?kind=active_directory')
    t.is(page.status, 200)
    t.regex(page.text, /userAccountControl:1\.2\.840\.113556\.1\.4\.803:=2/)
    t.regex(page.text, /value="employeeID"/)

    const response = await client.post(
      '/console/directory/sources',
      form({
        url: 'http://example.edu.cn',
        searchFilter: '(objectClass=inetOrgPerson',
        mapOrgUnitFixed: 'NOPE',
        mapIdentityTypeValues: 'student=martian',
        mapEmail: 'mail address',
        pageSize: '99999',
        bindPassword: 'Typed-But-Refused-1',
      })
    )
    t.is(response.status, 302)
    t.is(response.location, '/console/directory/sources/new')
    const back = await client.follow(response)
    for (const field of ['url', 'pageSize', 'mapEmail'])
      t.regex(back.text, new RegExp(`data-error-for="${field}"`), field)
    t.false(back.text.includes('Typed-But-Refused-1'), 'the password is not sent back')
    t.regex(back.text, /须为 1 到 5000 之间的整数/)

    const second = await client.post(
      '/console/directory/sources',
      form({
        url: 'ldaps://127.0.0.1:1',
        startTls: '1',
        searchFilter: '(objectClass=inetOrgPerson',
        mapOrgUnitFixed: 'NOPE',
        mapIdentityTypeValues: 'student=martian',
      })
    )
    const again = await client.follow(second)
    t.regex(again.text, /data-error-for="startTls"/)
    t.regex(again.text, /搜索过滤器格式不正确/)
    t.regex(again.text, /组织机构中没有代码为“NOPE”的单位/)
    t.regex(again.text, /无法识别这些行：student=martian/)
    const { default: DirectorySource } = await import('#identity/models/directory_source')
    t.is((await DirectorySource.all()).length, 0)
  })

  test.serial('create, test, dry run and apply through the console', async (t) => {
    const client = await signedIn(superAdmin)
    await client.get('/console/directory/sources/new')
    const created = await client.post('/console/directory/sources', form())
    t.is(created.status, 302)
    const source = await sourceNamed('校园目录')
    t.is(created.location, `/console/directory/sources/${source.publicId}`)
    t.not(source.bindPassword, SYNC_PASSWORD)
    t.is(source.scheduleTime, '02:00')

    const page = await client.follow(created)
    t.regex(page.text, /目录源“校园目录”已保存/)
    t.false(page.text.includes(SYNC_PASSWORD))

    const tested = await client.post(`/console/directory/sources/${source.publicId}/test`, {})
    t.is(tested.status, 200)
    t.regex(tested.text, /data-testid="directory-test-result" data-ok="true"/)
    t.regex(tested.text, /连接成功/)
    t.regex(tested.text, /黄磊/)

    const started = await client.post(`/console/directory/sources/${source.publicId}/preview`, {})
    t.is(started.status, 302)
    const runPath = started.location!
    t.regex(runPath, /^\/console\/directory\/runs\/[0-9A-Z]{26}$/)
    const queued = await client.get(runPath)
    t.regex(queued.text, /data-status="queued"/)
    t.regex(queued.text, /data-run-progress/)
    t.is((await client.get(`${runPath}/progress`)).json().status, 'queued')

    t.deepEqual(
      (await runJobs()).map((job) => [job.name, job.outcome]),
      [['identity.directory_sync', 'succeeded']]
    )
    const preview = await client.get(runPath)
    t.regex(preview.text, /data-status="succeeded" data-mode="preview"/)
    t.regex(preview.text, /data-testid="count-created">3</)
    t.regex(preview.text, /data-testid="count-invalid">1</)
    t.regex(preview.text, /属性 employeeType 的值“alien”无法识别为身份类型/)
    const { default: Person } = await import('#identity/models/person')
    t.is((await Person.all()).length, 0, 'the dry run wrote nothing')

    const applied = await client.post(`${runPath}/apply`, {})
    t.is(applied.status, 302)
    const applyPath = applied.location!
    t.not(applyPath, runPath)
    // A second click while the first apply waits is refused.
    await client.get(runPath)
    const twice = await client.post(`${runPath}/apply`, {})
    t.is(twice.location, runPath)
    t.regex((await client.follow(twice)).text, /已有同步在进行中/)

    await runJobs()
    const done = await client.get(applyPath)
    t.regex(done.text, /data-status="succeeded" data-mode="apply"/)
    t.regex(done.text, /data-testid="count-created">3</)
    const huang = await Person.query()
      .where('person_no', 'S2024001')
      .preload('orgUnit')
      .firstOrFail()
    t.is(huang.orgUnit.code, 'C01')
    t.is(huang.phoneMasked, '138****8001')
    const teacher = await Person.query()
      .where('person_no', 'T2001')
      .preload('orgUnit')
      .firstOrFail()
    t.is(teacher.identityType, 'teacher')
    t.is(teacher.orgUnit.code, 'SCMU')

    const history = await client.get(`/console/directory/sources/${source.publicId}`)
    t.is([...history.text.matchAll(/data-testid="directory-run-row"/g)].length, 2)
    const list = await client.get('/console/directory')
    t.regex(list.text, /校园目录/)
    t.regex(list.text, /href="\/console\/directory"/)
  })

  test.serial('editing keeps the stored password, and a wrong one fails the test', async (t) => {
    const client = await signedIn(superAdmin)
    const source = await sourceNamed('校园目录')
    const edit = await client.get(`/console/directory/sources/${source.publicId}/edit`)
    t.regex(edit.text, /留空则保留已保存的密码/)
    t.false(edit.text.includes(SYNC_PASSWORD))
    const kept = await client.post(
      `/console/directory/sources/${source.publicId}`,
      form({ bindPassword: '', vanishLimitPercent: '30' })
    )
    t.is(kept.location, `/console/directory/sources/${source.publicId}`)
    await client.get(kept.location!)
    const tested = await client.post(`/console/directory/sources/${source.publicId}/test`, {})
    t.regex(tested.text, /data-ok="true"/)

    await client.get(`/console/directory/sources/${source.publicId}/edit`)
    await client.post(
      `/console/directory/sources/${source.publicId}`,
      form({ name: '校园目录', bindPassword: 'Wrong-Password-9' })
    )
    await client.get(`/console/directory/sources/${source.publicId}`)
    const failed = await client.post(`/console/directory/sources/${source.publicId}/test`, {})
    t.regex(failed.text, /data-ok="false"/)
    t.regex(failed.text, /绑定失败：绑定 DN 或密码不正确/)

    const { default: db } = await import('@adonisjs/lucid/services/db')
    const audit = await db
      .from('audit_entries')
      .where('action', 'directory.source_updated')
      .orderBy('seq', 'desc')
      .first()
    t.false(JSON.stringify(audit).includes('Wrong-Password-9'))
    t.is(JSON.parse(audit.meta).bindCredentialChanged, true)
  })

  test.serial('the ace command prints the diff and exits 1 when the run fails', async (t) => {
    const { SaveDirectorySource } = await import('#identity/actions/save_directory_source')
    const source = await sourceNamed('校园目录')
    // Back to the right password, and one person's entry changed.
    const saved = await new SaveDirectorySource().handle(
      {
        name: source.name,
        url: source.url,
        startTls: false,
        caCertificate: null,
        bindDn: SYNC_DN,
        bindPassword: SYNC_PASSWORD,
        baseDn: source.baseDn,
        searchFilter: source.searchFilter,
        scope: source.scope,
        pageSize: source.pageSize,
        timeoutSeconds: source.timeoutSeconds,
        mapping: source.mapping,
        vanishedAction: source.vanishedAction,
        vanishLimitPercent: 50,
        schedule: 'off',
        scheduleTime: null,
        enabled: true,
      },
      { publicId: source.publicId },
      { type: 'system', name: 'test' }
    )
    t.true(saved.ok)
    await slapd.modify('S2024002', { cn: '吴敏敏' })
    await slapd.remove('T2001')

    const env = aceEnvironment(quad)
    const dry = await runAce(['directory:sync', '校园目录', '--dry-run'], { env })
    t.is(dry.code, 0, dry.output)
    t.regex(dry.output, /~ S2024002 吴敏敏 \(Name: 吴敏 → 吴敏敏\)/)
    t.regex(dry.output, /- T2001 郑老师: Suspend/)
    t.regex(dry.output, /! uid=BAD01,ou=people,dc=quad,dc=test: Identity type: the value “alien”/)
    t.regex(dry.output, /Dry run complete, nothing written: entries 3, new 0, updated 1/)
    const { default: Person } = await import('#identity/models/person')
    t.is((await Person.findByOrFail('person_no', 'S2024002')).name, '吴敏')

    const applied = await runAce(['directory:sync', source.publicId], { env })
    t.is(applied.code, 0, applied.output)
    t.regex(applied.output, /Sync complete: entries 3, new 0, updated 1, unchanged 1, vanished 1/)
    t.is((await Person.findByOrFail('person_no', 'S2024002')).name, '吴敏敏')
    t.is((await Person.findByOrFail('person_no', 'T2001')).status, 'suspended')

    await saveWrongPassword(source.publicId)
    const failed = await runAce(['directory:sync', '校园目录'], { env })
    t.is(failed.code, 1, failed.output)
    t.regex(failed.output, /FAILED: Bind failed: the bind DN or the password is wrong/)
    t.false(failed.output.includes('Wrong-Again-7'))

    const unknown = await runAce(['directory:sync', '没有这个目录'], { env })
    t.is(unknown.code, 1)
    t.regex(unknown.output, /No directory source named or with ID "没有这个目录"/)
  })
})

async function saveWrongPassword(publicId: string) {
  const { default: DirectorySource } = await import('#identity/models/directory_source')
  const { default: encryption } = await import('@adonisjs/core/services/encryption')
  const source = await DirectorySource.findByOrFail('public_id', publicId)
  source.bindPassword = encryption.encrypt('Wrong-Again-7')
  await source.save()
}
