import test from 'ava'
import { IDENTITY_TYPES } from '#identity/models/person'
import {
  DEMO_GRADE_YEARS,
  demoIdentityCounts,
  planDemoSchool,
} from '#identity/services/demo_school'

const school = { code: 'SCMU', name: '华南示范大学' }

test('the same seed gives the same school, another seed another one', (t) => {
  const first = planDemoSchool({ people: 400, seed: 42, school })
  const again = planDemoSchool({ people: 400, seed: 42, school })
  const other = planDemoSchool({ people: 400, seed: 43, school })
  t.deepEqual(again, first)
  t.deepEqual(other.units, first.units, 'the tree does not depend on the seed')
  const names = (plan: typeof first) => plan.people.map((person) => person.name).join()
  t.not(names(other), names(first))
})

test('is mostly undergraduates, with every identity type from 20 people on', (t) => {
  t.deepEqual(demoIdentityCounts(400), {
    undergraduate: 280,
    postgraduate: 40,
    teacher: 32,
    staff: 24,
    alumni: 12,
    visitor: 8,
    temporary: 4,
  })
  for (const total of [1, 5, 19, 20, 60, 401, 20000]) {
    const counts = demoIdentityCounts(total)
    const sum = Object.values(counts).reduce((a, b) => a + b, 0)
    t.is(sum, total)
    t.true(Object.values(counts).every((count) => count >= 0))
    t.true(counts.undergraduate > total / 2, `undergraduates are the majority of ${total}`)
    if (total >= 20) t.true(IDENTITY_TYPES.every((type) => counts[type] >= 1))
  }
})

test('plans a tree whose parents come first and whose codes are unique', (t) => {
  const { units, people } = planDemoSchool({ people: 60, seed: 1, school })
  const seen = new Map<string, (typeof units)[number]>()
  for (const unit of units) {
    t.false(seen.has(unit.code), `${unit.code} is unique`)
    if (unit.parentCode !== null) t.true(seen.has(unit.parentCode), `${unit.code} after its parent`)
    seen.set(unit.code, unit)
  }
  t.is(units.filter((unit) => unit.parentCode === null).length, 1)
  t.true(people.every((person) => seen.has(person.unitCode)))
})

test('numbers people by type and puts them where they belong', (t) => {
  const { units, people } = planDemoSchool({ people: 400, seed: 42, school })
  const unit = new Map(units.map((item) => [item.code, item]))
  t.is(new Set(people.map((person) => person.personNo)).size, people.length)
  for (const person of people) {
    const place = unit.get(person.unitCode)!
    switch (person.identityType) {
      case 'undergraduate': {
        t.is(place.kind, 'class')
        const grade = unit.get(place.parentCode!)!
        t.is(grade.code.slice(-4), String(person.enrollmentYear))
        t.true((DEMO_GRADE_YEARS as readonly number[]).includes(person.enrollmentYear!))
        // 2023 + college code + sequence; the class code starts with the college code.
        t.regex(
          person.personNo,
          new RegExp(`^${person.enrollmentYear}${place.code.slice(0, 2)}\\d{4}$`)
        )
        t.true(['active', 'suspended'].includes(person.status))
        break
      }
      case 'postgraduate':
        t.is(place.kind, 'major')
        t.regex(
          person.personNo,
          new RegExp(`^Y${person.enrollmentYear}${place.code.slice(0, 2)}\\d{4}$`)
        )
        break
      case 'alumni':
        t.is(place.kind, 'major')
        t.is(person.status, 'graduated')
        t.true(person.enrollmentYear! < DEMO_GRADE_YEARS[0])
        break
      case 'teacher':
        t.is(place.kind, 'college')
        t.regex(person.personNo, /^T\d{5}$/)
        t.is(person.email, `${person.personNo.toLowerCase()}@scmu.edu.cn`)
        break
      case 'staff':
        t.is(place.kind, 'department')
        t.regex(person.personNo, /^S\d{5}$/)
        t.truthy(person.email)
        break
      case 'visitor':
        t.is(place.name, '保卫处')
        t.regex(person.personNo, /^V\d{5}$/)
        break
      case 'temporary':
        t.is(place.name, '后勤保障处')
        t.regex(person.personNo, /^L\d{5}$/)
        break
    }
    if (!['teacher', 'staff'].includes(person.identityType)) t.is(person.email, null)
  }
})

test('draws surnames by their frequency', (t) => {
  const { people } = planDemoSchool({ people: 4000, seed: 7, school })
  const count = (surname: string) =>
    people.filter((person) => person.name.startsWith(surname)).length
  t.true(count('王') > count('郑') && count('郑') > count('龚'))
  t.true(people.every((person) => person.name.length >= 2 && person.name.length <= 4))
})

test('gives the root another code when the school code clashes with a unit code', (t) => {
  const { units } = planDemoSchool({
    people: 20,
    seed: 1,
    school: { code: '01', name: '测试学院' },
  })
  const root = units.find((unit) => unit.kind === 'school')!
  t.is(root.code, '01-ROOT')
  t.is(new Set(units.map((unit) => unit.code)).size, units.length)
})
