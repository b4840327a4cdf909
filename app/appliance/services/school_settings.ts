import School from '#appliance/models/school'

/**
 * The school row is read on every request (locale, setup gate) but changes
 * once, at setup. Cache it in the process; setup and settings edits reset it.
 */
let cached: School | null | undefined

export async function currentSchool(): Promise<School | null> {
  if (cached) return cached
  cached = await School.query().orderBy('id').first()
  return cached
}

export async function isSetUp(): Promise<boolean> {
  return (await currentSchool()) !== null
}

export function forgetSchool() {
  cached = undefined
}

/** The school's time zone for display; the cache is warm after the first request. */
export function schoolTimeZone(): string {
  return cached?.timeZone ?? 'Asia/Shanghai'
}
