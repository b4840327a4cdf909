/**
 * The card office's console: card types with their face, the cards list,
 * a card's page and its actions, the person page's panel, the blacklist,
 * and who may do what.
 */
import test from 'ava'
import { readdirSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import { TestClient } from '#tests/helpers/http'
import type { GivenAdmin } from '#tests/helpers/fixtures'
import type Person from '#identity/models/person'

let quad: TestApp
let admin: GivenAdmin
let auditor: GivenAdmin
let people: Map<string, Person>

const PNG = Buffer.concat([
  Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex'),
  Buffer.alloc(64),
])

test.before(async () => {
  quad = await bootTestApp()
  const { givenSchool } = await import('#tests/helpers/fixtures')
  const { givenPeople, givenAccount } = await import('./fixtures.js')
  await givenSchool()
  admin = await givenAccount('super_admin')
  auditor = await givenAccount('auditor')
  people = await givenPeople([
    { no: 'C001', type: 'teacher', name: '王老师' },
    { no: 'C002', type: 'teacher', name: '李老师' },
    { no: 'C003', type: 'staff', name: '赵干事' },
  ])
})

test.after.always(async () => {
  await quad?.close()
})

async function signedIn(who: GivenAdmin) {
  const { signIn } = await import('#tests/helpers/fixtures')
  const client = new TestClient(quad.baseUrl)
  await signIn(client, who)
  return client
}

async function cardFor(no: string, code: string) {
  const { IssueCard } = await import('#cards/actions/issue_card')
  const result = await new IssueCard().handle(
    { person: { id: people.get(no)!.id }, cardType: { code } },
    { type: 'system' }
  )
  if (!result.ok) throw new Error(result.error)
  return result.value
}

function faceUploads(): string[] {
  const folder = join(quad.storage, 'uploads', 'cards')
  return existsSync(folder) ? readdirSync(folder) : []
}

function typeForm(overrides: Record<string, string | string[] | undefined> = {}) {
  return {
    'code': 'library',
    'nameZh': '图书馆卡',
    'nameEn': 'Library card',
    'identityTypes[]': ['teacher', 'staff'],
    'validityKind': 'years',
    'validityYears': '3',
    'faceTitle': '示范大学图书馆',
    'colorBackground': '#112233',
    'colorText': '#FFFFFF',
    'colorAccent': '#FFCC00',
    'showName': '1',
    'showNumber': '1',
    'enabled': '1',
    ...overrides,
  }
}

test.serial('an account without card permissions sees and changes nothing', async (t) => {
  const anonymous = new TestClient(quad.baseUrl)
  const page = await anonymous.get('/console/cards')
  t.is(page.status, 302)
  t.regex(page.location ?? '', /\/login$/)

  const card = await cardFor('C001', 'teacher')
  const client = await signedIn(auditor)
  t.false(auditor.user.can('cards.read'))
  for (const path of [
    '/console/cards',
    `/console/cards/${card.publicId}`,
    '/console/card-types',
    '/console/card-types/new',
    '/console/card-issuances',
    '/console/card-blacklist',
  ]) {
    t.is((await client.get(path)).status, 403, path)
  }
  await client.get('/console')
  for (const [path, form] of [
    [`/console/cards/${card.publicId}/freeze`, { reason: 'admin', note: '试图冻结' }],
    [`/console/cards/${card.publicId}/revoke`, { note: '试图注销' }],
    [`/console/cards/${card.publicId}/physical`, { uid: '01020304' }],
    ['/console/card-issuances', { cardType: card.publicId, target: 'eligible' }],
    ['/console/card-types', typeForm()],
  ] as const) {
    t.is((await client.post(path, form as Record<string, string>)).status, 403, path)
  }
  const { default: Card } = await import('#cards/models/card')
  t.is((await Card.findOrFail(card.id)).state, 'pending_activation')
  const person = await client.get(`/console/people/${people.get('C001')!.publicId}`)
  t.notRegex(person.text, /data-testid="person-cards"/)
})

test.serial(
  'an account that may read cards but not change them is refused every change',
  async (t) => {
    const { givenAccount } = await import('./fixtures.js')
    const { default: Role } = await import('#identity/models/role')
    const { default: AdminGrant } = await import('#identity/models/admin_grant')
    const role = await Role.create({
      key: 'card_reader',
      nameZh: '卡务查询',
      nameEn: 'Card reader',
      description: null,
      builtIn: false,
      storedPermissions: ['console.access', 'cards.read'],
    })
    const reader = await givenAccount('card_reader')
    await AdminGrant.create({
      userId: reader.user.id,
      roleId: role.id,
      orgUnitId: null,
      grantedBy: null,
    })
    const { default: Card } = await import('#cards/models/card')
    const card = await Card.query().where('person_id', people.get('C001')!.id).firstOrFail()
    const client = await signedIn(reader)
    for (const path of [
      '/console/cards',
      `/console/cards/${card.publicId}`,
      '/console/card-types',
      '/console/card-issuances',
      '/console/card-blacklist',
    ]) {
      t.is((await client.get(path)).status, 200, path)
    }
    const page = await client.get(`/console/cards/${card.publicId}`)
    t.notRegex(
      page.text,
      /data-testid="card-actions"|data-testid="bind-form"/,
      'no action is offered'
    )
    t.notRegex((await client.get('/console/card-issuances')).text, /data-testid="issuance-form"/)
    t.is((await client.get('/console/card-types/new')).status, 403)
    await client.get(`/console/cards/${card.publicId}`)
    for (const [path, form] of [
      [`/console/cards/${card.publicId}/freeze`, { reason: 'admin', note: '试图冻结' }],
      [`/console/cards/${card.publicId}/reissue`, { note: '试图补卡' }],
      [`/console/cards/${card.publicId}/physical`, { uid: '01020304' }],
      ['/console/card-issuances', { cardType: card.publicId, target: 'eligible' }],
      [
        '/console/card-upgrade-rules',
        { fromType: card.publicId, toType: card.publicId, trigger: 'graduated' },
      ],
    ] as const) {
      t.is((await client.post(path, form as Record<string, string>)).status, 403, path)
    }
    t.is((await Card.findOrFail(card.id)).state, 'pending_activation')
  }
)

test.serial('creates a card type with its face and serves the images to staff only', async (t) => {
  const { postMultipart, auditActions } = await import('./fixtures.js')
  const client = await signedIn(admin)
  const form = await client.get('/console/card-types/new')
  t.is(form.status, 200)
  t.regex(form.text, /data-card-face-form/)
  t.regex(form.text, /<svg class="card-face"[^>]*data-card-face/)
  t.regex(form.text, /<script src="\/js\/card_face\.js/)
  t.notRegex(form.text, /<script>|style="/, 'no inline script or style')

  const response = await postMultipart(client, quad.baseUrl, '/console/card-types', typeForm(), {
    background: { bytes: PNG, name: 'bg.png' },
    logo: { bytes: PNG, name: 'logo.png' },
  })
  t.is(response.status, 302, response.text.slice(0, 300))
  t.is(response.location, '/console/card-types')
  const { default: CardType } = await import('#cards/models/card_type')
  const type = await CardType.findByOrFail('code', 'library')
  t.deepEqual(type.identityTypes, ['teacher', 'staff'])
  t.deepEqual(type.validity, { kind: 'years', years: 3 })
  t.like(type.face, {
    title: '示范大学图书馆',
    colors: { background: '#112233', text: '#FFFFFF', accent: '#FFCC00' },
    fields: { name: true, number: true, photo: false, org: false, type: false, validity: false },
  })
  t.regex(type.face.background ?? '', /^cards\/[0-9a-f]{32}\.png$/)
  t.is(faceUploads().length, 2)
  t.is((await auditActions()).at(-1), 'cards.type_created')

  const index = await client.get('/console/card-types')
  t.regex(index.text, /data-code="library"/)
  t.regex(index.text, /fill="#112233"/)
  const image = await client.get(`/console/card-types/${type.publicId}/face/background`)
  t.is(image.status, 200)
  t.is(image.headers.get('content-type'), 'image/png')
  const outsider = await signedIn(auditor)
  t.is((await outsider.get(`/console/card-types/${type.publicId}/face/background`)).status, 403)
  const anonymous = new TestClient(quad.baseUrl)
  t.is((await anonymous.get(`/console/card-types/${type.publicId}/face/logo`)).status, 302)

  // Editing: the preview shows the saved images; removing one deletes its file.
  const edit = await client.get(`/console/card-types/${type.publicId}/edit`)
  t.regex(edit.text, new RegExp(`href="/console/card-types/${type.publicId}/face/background\\?v=`))
  const saved = await postMultipart(
    client,
    quad.baseUrl,
    `/console/card-types/${type.publicId}`,
    typeForm({ removeLogo: '1', colorAccent: '#00AA00' })
  )
  t.is(saved.status, 302)
  await type.refresh()
  t.is(type.face.logo, null)
  t.is(type.face.colors.accent, '#00AA00')
  t.truthy(type.face.background, 'the background stays')
  t.is(faceUploads().length, 1)
})

test.serial(
  'a card type says what its codes may do and how much they may pay offline',
  async (t) => {
    const { postMultipart, auditActions } = await import('./fixtures.js')
    const client = await signedIn(admin)
    const { default: CardType } = await import('#cards/models/card_type')
    const student = await CardType.findByOrFail('code', 'student')
    t.deepEqual(student.codePolicy, {
      permissions: ['payment', 'access', 'sign_in'],
      offline: { maxCountPerDay: 5, maxAmountPerDayFen: 10_000, maxSingleAmountFen: 3_000 },
    })
    const visitor = await CardType.findByOrFail('code', 'visitor')
    t.false(visitor.codePolicy.permissions.includes('payment'))

    const form = await client.get(`/console/card-types/${student.publicId}/edit`)
    t.regex(form.text, /name="permissions\[\]" value="payment" checked/)
    t.regex(form.text, /name="offlineSingle"[^>]*value="30"/)

    // The library card type of the test above takes the edits.
    const library = await CardType.findByOrFail('code', 'library')
    const path = `/console/card-types/${library.publicId}`
    const edit = (overrides: Record<string, string | string[]>) =>
      postMultipart(client, quad.baseUrl, path, typeForm(overrides))
    const saved = await edit({
      'permissions[]': ['access', 'payment'],
      'offlineCount': '3',
      'offlineDay': '50',
      'offlineSingle': '20.50',
    })
    t.is(saved.status, 302, saved.text.slice(0, 300))
    await library.refresh()
    t.deepEqual(library.codePolicy, {
      permissions: ['payment', 'access'],
      offline: { maxCountPerDay: 3, maxAmountPerDayFen: 5_000, maxSingleAmountFen: 2_050 },
    })
    t.is((await auditActions()).at(-1), 'cards.type_updated')

    // A single payment above the daily total, a sum that is not yuan, a tag
    // that does not exist: refused, nothing changes.
    for (const overrides of [
      {
        'permissions[]': ['payment'],
        'offlineCount': '3',
        'offlineDay': '50',
        'offlineSingle': '60',
      },
      {
        'permissions[]': ['payment'],
        'offlineCount': '3',
        'offlineDay': '5.001',
        'offlineSingle': '1',
      },
      {
        'permissions[]': ['teleport'],
        'offlineCount': '3',
        'offlineDay': '50',
        'offlineSingle': '1',
      },
      {
        'permissions[]': ['payment'],
        'offlineCount': '300',
        'offlineDay': '50',
        'offlineSingle': '1',
      },
    ]) {
      const refused = await edit(overrides)
      t.is(refused.status, 422, JSON.stringify(overrides))
    }
    const tooMuch = await edit({
      'permissions[]': ['payment'],
      'offlineCount': '3',
      'offlineDay': '50',
      'offlineSingle': '60',
    })
    t.regex(tooMuch.text, /离线限额/)
    await library.refresh()
    t.is(library.codePolicy.offline.maxSingleAmountFen, 2_050)

    // Without the payment tag there is no offline payment, whatever the numbers say.
    t.is((await edit({ offlineCount: '3', offlineDay: '50', offlineSingle: '1' })).status, 302)
    await library.refresh()
    t.deepEqual(library.codePolicy.permissions, [])
    t.is(library.codePolicy.offline.maxCountPerDay, 0)
  }
)

test.serial('refuses face images that are not images or too large, keeping nothing', async (t) => {
  const { postMultipart } = await import('./fixtures.js')
  const client = await signedIn(admin)
  await client.get('/console/card-types/new')
  const before = faceUploads().length
  const notImage = await postMultipart(
    client,
    quad.baseUrl,
    '/console/card-types',
    typeForm({ code: 'gym' }),
    { background: { bytes: Buffer.from('<svg onload="alert(1)"/>'), name: 'bg.png' } }
  )
  t.is(notImage.status, 422)
  t.regex(notImage.text, /只能上传 JPEG、PNG 或 WebP 图片/)
  t.regex(notImage.text, /value="gym"/, 'the form keeps what was typed')

  const huge = Buffer.concat([PNG, Buffer.alloc(600 * 1024)])
  const tooLarge = await postMultipart(
    client,
    quad.baseUrl,
    '/console/card-types',
    typeForm({ code: 'gym' }),
    { logo: { bytes: huge, name: 'logo.png' } }
  )
  t.is(tooLarge.status, 422)
  t.regex(tooLarge.text, /图片太大（最大 512 KB）/)

  const badCode = await postMultipart(
    client,
    quad.baseUrl,
    '/console/card-types',
    typeForm({ code: 'Student!' })
  )
  t.is(badCode.status, 422)
  t.regex(badCode.text, /data-error-for="code"/)
  const taken = await postMultipart(
    client,
    quad.baseUrl,
    '/console/card-types',
    typeForm({ code: 'student' })
  )
  t.is(taken.status, 422)
  t.regex(taken.text, /这个代码已被其他卡类型使用/)
  t.is(faceUploads().length, before)
  const { default: CardType } = await import('#cards/models/card_type')
  t.is(await CardType.findBy('code', 'gym'), null)
})

test.serial('finds cards by number, person number or name, and filters them', async (t) => {
  const { cardType } = await import('./fixtures.js')
  const { formatCardNo } = await import('#cards/services/card_numbers')
  const second = await cardFor('C002', 'teacher')
  const third = await cardFor('C003', 'staff')
  const client = await signedIn(admin)
  const numbers = (text: string) =>
    [...text.matchAll(/data-testid="card-row" data-card-no="(\d+)"/g)].map((match) => match[1])
  t.deepEqual(numbers((await client.get('/console/cards')).text).length, 3)
  const byNumber = await client.get(
    `/console/cards?q=${encodeURIComponent(formatCardNo(second.cardNo))}`
  )
  t.deepEqual(numbers(byNumber.text), [second.cardNo])
  t.deepEqual(numbers((await client.get('/console/cards?q=c003')).text), [third.cardNo])
  t.deepEqual(numbers((await client.get(`/console/cards?q=${encodeURIComponent('李老')}`)).text), [
    second.cardNo,
  ])
  const staff = await cardType('staff')
  t.deepEqual(numbers((await client.get(`/console/cards?type=${staff.publicId}`)).text), [
    third.cardNo,
  ])
  t.deepEqual(numbers((await client.get('/console/cards?state=frozen')).text), [])
  const invalid = await client.get('/console/cards?state=melted')
  t.is(invalid.status, 302)
})

test.serial(
  'runs a card through the console: freeze, unfreeze, bind, reissue, revoke',
  async (t) => {
    const { auditActions } = await import('./fixtures.js')
    const { default: Card } = await import('#cards/models/card')
    const card = await Card.query().where('person_id', people.get('C002')!.id).firstOrFail()
    const client = await signedIn(admin)
    const url = `/console/cards/${card.publicId}`
    const page = await client.get(url)
    t.is(page.status, 200)
    t.regex(page.text, /data-testid="card-face"/)
    t.regex(
      page.text,
      /data-testid="freeze-form"[^>]*|data-confirm="[^"]+"[^>]*data-testid="freeze-form"/
    )
    t.regex(page.text, /data-confirm="[^"]+"[^>]*data-testid="revoke-form"/)

    const noNote = await client.post(`${url}/freeze`, { reason: 'admin', note: '' })
    t.is(noNote.location, url)
    t.regex((await client.get(url)).text, /请填写说明/)
    t.is((await Card.findOrFail(card.id)).state, 'pending_activation')

    await client.post(`${url}/freeze`, { reason: 'admin', note: '核查身份' })
    let shown = await client.get(url)
    t.regex(shown.text, /data-state="frozen"/)
    t.regex(shown.text, /核查身份/)
    t.regex(shown.text, /data-event="frozen"/)
    t.notRegex(shown.text, /data-testid="freeze-form"/)
    t.regex(shown.text, /data-testid="unfreeze-form"/)
    const twice = await client.post(`${url}/freeze`, { reason: 'admin', note: '再次冻结' })
    t.is(twice.location, url)
    t.regex((await client.get(url)).text, /当前状态（已冻结）下不能执行此操作/)

    await client.post(`${url}/unfreeze`, { note: '' })
    t.is((await Card.findOrFail(card.id)).state, 'pending_activation')

    await client.get(url)
    await client.post(`${url}/physical`, { uid: 'not hex' })
    t.regex((await client.get(url)).text, /UID 应为 8、14 或 20 位十六进制数字/)
    await client.post(`${url}/physical`, { uid: '04:aa:bb:cc:dd:ee:ff' })
    shown = await client.get(url)
    t.regex(shown.text, /data-testid="physical-bound" data-uid="04AABBCCDDEEFF"/)

    const reissued = await client.post(`${url}/reissue`, { note: '卡面损坏' })
    t.regex(reissued.location ?? '', /^\/console\/cards\/[0-9A-Z]{26}$/)
    t.not(reissued.location, url)
    const replacement = await client.get(reissued.location!)
    t.regex(replacement.text, /data-testid="card-replaces"/)
    t.regex(replacement.text, /data-uid="04AABBCCDDEEFF"/, 'the physical card moved along')
    const old = await client.get(url)
    t.regex(old.text, /data-state="revoked"/)
    t.regex(old.text, /data-testid="card-replaced-by"/)
    t.regex(old.text, /这张卡已结束/)

    await client.post(`${reissued.location}/revoke`, { note: '离职' })
    const revoked = await client.get(reissued.location!)
    t.regex(revoked.text, /data-state="revoked"/)
    const actions = await auditActions()
    for (const action of [
      'cards.frozen',
      'cards.unfrozen',
      'cards.physical_bound',
      'cards.reissued',
      'cards.revoked',
    ])
      t.true(actions.includes(action), action)
  }
)

test.serial('the blacklist page lists lost physical cards and marks them found', async (t) => {
  const { default: PhysicalCard } = await import('#cards/models/physical_card')
  const { default: Card } = await import('#cards/models/card')
  const card = await Card.query()
    .where('person_id', people.get('C003')!.id)
    .where('state', 'pending_activation')
    .firstOrFail()
  const client = await signedIn(admin)
  await client.get(`/console/cards/${card.publicId}`)
  await client.post(`/console/cards/${card.publicId}/physical`, { uid: 'a1b2c3d4' })
  const physical = await PhysicalCard.findByOrFail('uid', 'A1B2C3D4')
  await client.get(`/console/cards/${card.publicId}`)
  const lost = await client.post(`/console/physical-cards/${physical.publicId}/lost`, {})
  t.is(lost.location, `/console/cards/${card.publicId}`)

  const page = await client.get('/console/card-blacklist?kind=physical')
  t.regex(page.text, /data-kind="physical" data-uid="A1B2C3D4"[^>]*data-listed="true"/)
  const version = Number(/data-testid="blacklist-version">(\d+)</.exec(page.text)![1])
  t.true(version >= 1)
  const found = await client.post('/console/physical-cards/found', { uid: 'A1B2C3D4' })
  t.is(found.location, '/console/card-blacklist')
  const after = await client.get('/console/card-blacklist?listed=current&kind=physical')
  t.notRegex(after.text, /data-uid="A1B2C3D4"/)
  t.is(Number(/data-testid="blacklist-version">(\d+)</.exec(after.text)![1]), version + 1)
})

test.serial('the person page shows their cards and issues one', async (t) => {
  const { givenPeople } = await import('./fixtures.js')
  people = new Map([
    ...people,
    ...(await givenPeople([{ no: 'C004', type: 'visitor', name: '访客甲' }])),
  ])
  const person = people.get('C004')!
  const client = await signedIn(admin)
  const page = await client.get(`/console/people/${person.publicId}`)
  t.is(page.status, 200)
  t.regex(page.text, /data-testid="person-cards"/)
  t.regex(page.text, /此人还没有卡/)
  t.regex(page.text, /data-testid="person-issue-form"/)
  const { cardType } = await import('./fixtures.js')
  const visitor = await cardType('visitor')
  const refused = await client.post(`/console/people/${person.publicId}/cards`, {
    cardType: visitor.publicId,
  })
  t.is(refused.location, `/console/people/${person.publicId}#cards`)
  const issued = await client.post(`/console/people/${person.publicId}/cards`, {
    cardType: visitor.publicId,
    validFrom: '2031-01-01T09:00',
    validUntil: '2031-01-02T17:00',
  })
  t.regex(issued.location ?? '', /^\/console\/cards\/[0-9A-Z]{26}$/)
  const shown = await client.get(`/console/people/${person.publicId}`)
  t.regex(shown.text, /data-testid="person-card" data-state="pending_activation"/)
  t.regex(shown.text, /没有可发的卡类型/)
})
