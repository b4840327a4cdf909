/**
 * The demo school, as plain data: an organization tree and a registry of
 * people with realistic Chinese names, person numbers and identity types.
 * Everything comes from a seeded generator, so the same seed always gives
 * the same school (public ids aside, which are random by design).
 */
import type { OrgUnitKind } from '#identity/models/org_unit'
import type { Gender, IdentityType, PersonStatus } from '#identity/models/person'

export interface DemoUnit {
  code: string
  parentCode: string | null
  kind: OrgUnitKind
  name: string
  sortOrder: number
}

export interface DemoPerson {
  personNo: string
  name: string
  gender: Gender
  identityType: IdentityType
  status: PersonStatus
  unitCode: string
  enrollmentYear: number | null
  email: string | null
}

export interface DemoPlan {
  units: DemoUnit[]
  people: DemoPerson[]
}

export interface DemoPlanOptions {
  people: number
  seed: number
  school: { code: string; name: string }
}

/** Undergraduate grades in the tree (年级), one per intake year. */
export const DEMO_GRADE_YEARS = [2023, 2024, 2025, 2026] as const

const CAMPUSES = [
  { code: 'C1', name: '大学城校区' },
  { code: 'C2', name: '五山校区' },
]

interface College {
  code: string
  name: string
  campus: string
  /** Relative size, for students and teachers. */
  weight: number
  /** Share of men among its students: engineering and languages differ. */
  maleShare: number
  majors: { code: string; name: string; short: string }[]
}

const COLLEGES: College[] = [
  {
    code: '01',
    name: '经济管理学院',
    campus: 'C1',
    weight: 20,
    maleShare: 0.42,
    majors: [
      { code: '0101', name: '会计学', short: '会计' },
      { code: '0102', name: '金融学', short: '金融' },
      { code: '0103', name: '工商管理', short: '工管' },
    ],
  },
  {
    code: '02',
    name: '外国语学院',
    campus: 'C1',
    weight: 12,
    maleShare: 0.25,
    majors: [
      { code: '0201', name: '英语', short: '英语' },
      { code: '0202', name: '日语', short: '日语' },
      { code: '0203', name: '翻译', short: '翻译' },
    ],
  },
  {
    code: '03',
    name: '机械与汽车工程学院',
    campus: 'C2',
    weight: 15,
    maleShare: 0.85,
    majors: [
      { code: '0301', name: '机械设计制造及其自动化', short: '机械' },
      { code: '0302', name: '车辆工程', short: '车辆' },
    ],
  },
  {
    code: '04',
    name: '计算机科学与工程学院',
    campus: 'C1',
    weight: 25,
    maleShare: 0.72,
    majors: [
      { code: '0401', name: '计算机科学与技术', short: '计科' },
      { code: '0402', name: '软件工程', short: '软工' },
      { code: '0403', name: '人工智能', short: '智能' },
      { code: '0404', name: '网络空间安全', short: '网安' },
    ],
  },
  {
    code: '05',
    name: '医学院',
    campus: 'C2',
    weight: 18,
    maleShare: 0.4,
    majors: [
      { code: '0501', name: '临床医学', short: '临床' },
      { code: '0502', name: '护理学', short: '护理' },
      { code: '0503', name: '药学', short: '药学' },
    ],
  },
  {
    code: '06',
    name: '艺术学院',
    campus: 'C2',
    weight: 10,
    maleShare: 0.35,
    majors: [
      { code: '0601', name: '视觉传达设计', short: '视传' },
      { code: '0602', name: '音乐学', short: '音乐' },
    ],
  },
]

/** Administrative departments, with their relative share of staff. */
const DEPARTMENTS = [
  { code: 'D01', name: '教务处', weight: 3 },
  { code: 'D02', name: '学生工作部', weight: 3 },
  { code: 'D03', name: '财务处', weight: 2 },
  { code: 'D04', name: '后勤保障处', weight: 4 },
  { code: 'D05', name: '信息中心', weight: 2 },
  { code: 'D06', name: '图书馆', weight: 3 },
  { code: 'D07', name: '保卫处', weight: 2 },
  { code: 'D08', name: '招生办公室', weight: 1 },
  { code: 'D09', name: '人事处', weight: 2 },
]

/** Visitors are registered by campus security, temporary workers by facilities. */
const VISITOR_UNIT = 'D07'
const TEMPORARY_UNIT = 'D04'

/** Common surnames with rough frequencies (per mille of the population). */
export const DEMO_SURNAMES: readonly (readonly [string, number])[] = [
  ['王', 71],
  ['李', 70],
  ['张', 67],
  ['刘', 54],
  ['陈', 46],
  ['杨', 31],
  ['黄', 22],
  ['赵', 20],
  ['吴', 20],
  ['周', 19],
  ['徐', 15],
  ['孙', 15],
  ['马', 14],
  ['朱', 13],
  ['胡', 13],
  ['郭', 12],
  ['何', 12],
  ['林', 12],
  ['高', 11],
  ['罗', 11],
  ['郑', 10],
  ['梁', 10],
  ['谢', 8],
  ['宋', 8],
  ['唐', 8],
  ['许', 7],
  ['韩', 7],
  ['冯', 7],
  ['邓', 7],
  ['曹', 7],
  ['彭', 6],
  ['曾', 6],
  ['肖', 6],
  ['田', 6],
  ['董', 5],
  ['潘', 5],
  ['袁', 5],
  ['蔡', 5],
  ['蒋', 5],
  ['余', 5],
  ['于', 5],
  ['杜', 5],
  ['叶', 5],
  ['程', 5],
  ['魏', 4],
  ['苏', 4],
  ['吕', 4],
  ['丁', 4],
  ['任', 4],
  ['卢', 4],
  ['姚', 4],
  ['沈', 4],
  ['钟', 4],
  ['姜', 4],
  ['崔', 4],
  ['谭', 3],
  ['陆', 3],
  ['范', 3],
  ['汪', 3],
  ['廖', 3],
  ['石', 3],
  ['金', 3],
  ['韦', 3],
  ['贾', 3],
  ['夏', 3],
  ['方', 3],
  ['邹', 2],
  ['熊', 2],
  ['白', 2],
  ['孟', 2],
  ['秦', 2],
  ['邱', 2],
  ['侯', 2],
  ['江', 2],
  ['尹', 2],
  ['薛', 2],
  ['段', 2],
  ['雷', 2],
  ['龙', 2],
  ['黎', 2],
  ['陶', 2],
  ['贺', 2],
  ['毛', 2],
  ['顾', 2],
  ['龚', 2],
  ['覃', 1],
  ['单', 1],
  ['解', 1],
  ['欧阳', 1],
  ['司马', 1],
  ['上官', 1],
]

/** Characters of given names, by the gender they are most often given to. */
export const DEMO_GIVEN_NAME_CHARACTERS: Readonly<Record<'male' | 'female' | 'any', string>> = {
  male: '伟强磊军洋勇杰涛明超刚辉鹏华飞鑫波斌宇浩凯健俊帆旭宁龙睿博轩泽昊天毅航铭鸿志建国海峰亮成宸逸然',
  female: '芳娜敏静丽艳娟霞秀燕玲丹萍红婷雪琳颖倩洁佳晶欣悦怡涵诗梦琪雨萱可馨彤雅若楠慧月瑶',
  any: '子文嘉一思晨安宁佳欣',
}

type Random = () => number

/** mulberry32: a small, fast generator; good enough for demo data, not for secrets. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let value = state
    value = Math.imul(value ^ (value >>> 15), value | 1)
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61)
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296
  }
}

function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]
}

function pickWeighted<T>(random: Random, items: readonly T[], weight: (item: T) => number): T {
  const total = items.reduce((sum, item) => sum + weight(item), 0)
  let target = random() * total
  for (const item of items) {
    target -= weight(item)
    if (target < 0) return item
  }
  return items[items.length - 1]
}

/** Shares of each identity type other than undergraduates, who make up the rest. */
const IDENTITY_SHARES: readonly (readonly [IdentityType, number])[] = [
  ['postgraduate', 0.1],
  ['teacher', 0.08],
  ['staff', 0.06],
  ['alumni', 0.03],
  ['visitor', 0.02],
  ['temporary', 0.01],
]

/**
 * How many people of each identity type a demo of `total` people has:
 * mostly undergraduates; from 20 people on, at least one of every type.
 */
export function demoIdentityCounts(total: number): Record<IdentityType, number> {
  const counts = { undergraduate: 0 } as Record<IdentityType, number>
  let others = 0
  for (const [type, share] of IDENTITY_SHARES) {
    const count = Math.round(total * share)
    counts[type] = total >= 20 ? Math.max(1, count) : count
    others += counts[type]
  }
  counts.undergraduate = total - others
  return counts
}

function personName(random: Random, gender: Gender): string {
  const [surname] = pickWeighted(random, DEMO_SURNAMES, ([, weight]) => weight)
  const own = gender === 'unknown' ? '' : DEMO_GIVEN_NAME_CHARACTERS[gender]
  const first = [...own, ...DEMO_GIVEN_NAME_CHARACTERS.any]
  // About one in five has a one-character given name. Characters such as
  // 子 or 一 open a given name; the second character is a gendered one.
  if (random() < 0.2) return surname + pick(random, [...(own || DEMO_GIVEN_NAME_CHARACTERS.any)])
  return surname + pick(random, first) + pick(random, [...(own || DEMO_GIVEN_NAME_CHARACTERS.any)])
}

function genderOf(random: Random, maleShare: number, unknownShare = 0): Gender {
  const roll = random()
  if (roll < unknownShare) return 'unknown'
  return roll < unknownShare + (1 - unknownShare) * maleShare ? 'male' : 'female'
}

function emailDomain(schoolCode: string): string {
  const label = schoolCode.toLowerCase().replace(/[^a-z0-9-]/g, '')
  return `${label || 'school'}.edu.cn`
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0')
}

function planUnits(school: DemoPlanOptions['school']): { units: DemoUnit[]; rootCode: string } {
  const plannedCodes = new Set<string>()
  const units: DemoUnit[] = []
  const add = (unit: DemoUnit) => {
    plannedCodes.add(unit.code)
    units.push(unit)
  }
  const children: DemoUnit[] = []
  const child = (unit: DemoUnit) => {
    plannedCodes.add(unit.code)
    children.push(unit)
  }

  CAMPUSES.forEach((campus, index) =>
    child({ ...campus, parentCode: null, kind: 'campus', sortOrder: index })
  )
  DEPARTMENTS.forEach((department, index) =>
    child({
      code: department.code,
      name: department.name,
      parentCode: null,
      kind: 'department',
      sortOrder: CAMPUSES.length + index,
    })
  )
  COLLEGES.forEach((college, collegeIndex) => {
    child({
      code: college.code,
      name: college.name,
      parentCode: college.campus,
      kind: 'college',
      sortOrder: collegeIndex,
    })
    college.majors.forEach((major, majorIndex) => {
      child({
        code: major.code,
        name: major.name,
        parentCode: college.code,
        kind: 'major',
        sortOrder: majorIndex,
      })
      DEMO_GRADE_YEARS.forEach((year, yearIndex) => {
        const gradeCode = `${major.code}-${year}`
        child({
          code: gradeCode,
          name: `${year}级`,
          parentCode: major.code,
          kind: 'grade',
          sortOrder: yearIndex,
        })
        // The largest major of each college runs two classes a year.
        const classes = majorIndex === 0 ? 2 : 1
        for (let number = 1; number <= classes; number++) {
          const suffix = `${String(year).slice(2)}${pad(number, 2)}`
          child({
            code: `${major.code}${suffix}`,
            name: `${major.short}${suffix}班`,
            parentCode: gradeCode,
            kind: 'class',
            sortOrder: number - 1,
          })
        }
      })
    })
  })

  // The root carries the school's own code, unless that clashes with a
  // planned unit code (a school coded "01", say).
  const rootCode = plannedCodes.has(school.code) ? `${school.code}-ROOT` : school.code
  add({ code: rootCode, name: school.name, parentCode: null, kind: 'school', sortOrder: 0 })
  for (const unit of children) add({ ...unit, parentCode: unit.parentCode ?? rootCode })
  return { units, rootCode }
}

interface StudentSeat {
  college: College
  major: College['majors'][number]
  year: number
  unitCode: string
}

/** Builds the demo school for a head count and a seed. Pure: no database. */
export function planDemoSchool(options: DemoPlanOptions): DemoPlan {
  const random = seededRandom(options.seed)
  const { units } = planUnits(options.school)
  const counts = demoIdentityCounts(options.people)
  const domain = emailDomain(options.school.code)
  const people: DemoPerson[] = []
  const classesOf = (majorCode: string, year: number) =>
    units.filter((unit) => unit.kind === 'class' && unit.parentCode === `${majorCode}-${year}`)

  const seat = (years: readonly number[], inClass: boolean): StudentSeat => {
    const college = pickWeighted(random, COLLEGES, (item) => item.weight)
    const major = pick(random, college.majors)
    const year = pick(random, years)
    const unitCode = inClass ? pick(random, classesOf(major.code, year)).code : major.code
    return { college, major, year, unitCode }
  }

  // Student numbers run in class order within each intake year and college,
  // as a registrar would hand them out: 2023 + 04 + 0001.
  const sequences = new Map<string, number>()
  const students = (
    count: number,
    years: readonly number[],
    inClass: boolean,
    prefix: string,
    build: (seat: StudentSeat) => Pick<DemoPerson, 'identityType' | 'status'>
  ) => {
    const seats = Array.from({ length: count }, () => seat(years, inClass))
    seats.sort(
      (a, b) =>
        a.year - b.year ||
        a.college.code.localeCompare(b.college.code) ||
        a.unitCode.localeCompare(b.unitCode)
    )
    for (const student of seats) {
      const key = `${prefix}${student.year}${student.college.code}`
      const sequence = (sequences.get(key) ?? 0) + 1
      sequences.set(key, sequence)
      const gender = genderOf(random, student.college.maleShare)
      people.push({
        personNo: `${key}${pad(sequence, 4)}`,
        name: personName(random, gender),
        gender,
        unitCode: student.unitCode,
        enrollmentYear: student.year,
        email: null,
        ...build(student),
      })
    }
  }

  students(counts.undergraduate, DEMO_GRADE_YEARS, true, '', () => ({
    identityType: 'undergraduate',
    status: random() < 0.03 ? 'suspended' : 'active',
  }))
  students(counts.postgraduate, [2024, 2025, 2026], false, 'Y', () => ({
    identityType: 'postgraduate',
    status: random() < 0.02 ? 'suspended' : 'active',
  }))
  students(counts.alumni, [2018, 2019, 2020, 2021], false, '', () => ({
    identityType: 'alumni',
    status: 'graduated',
  }))

  const employees = (
    count: number,
    prefix: string,
    identityType: IdentityType,
    unitCode: () => string,
    leftShare: number,
    withEmail: boolean,
    unknownGenderShare = 0
  ) => {
    for (let number = 1; number <= count; number++) {
      const personNo = `${prefix}${pad(number, 5)}`
      const gender = genderOf(random, 0.5, unknownGenderShare)
      people.push({
        personNo,
        name: personName(random, gender),
        gender,
        identityType,
        status: random() < leftShare ? 'left' : 'active',
        unitCode: unitCode(),
        enrollmentYear: null,
        email: withEmail ? `${personNo.toLowerCase()}@${domain}` : null,
      })
    }
  }

  employees(
    counts.teacher,
    'T',
    'teacher',
    () => pickWeighted(random, COLLEGES, (item) => item.weight).code,
    0.04,
    true
  )
  employees(
    counts.staff,
    'S',
    'staff',
    () => pickWeighted(random, DEPARTMENTS, (item) => item.weight).code,
    0.05,
    true
  )
  employees(counts.visitor, 'V', 'visitor', () => VISITOR_UNIT, 0, false, 0.1)
  employees(counts.temporary, 'L', 'temporary', () => TEMPORARY_UNIT, 0.25, false, 0.1)

  return { units, people }
}
