import { currentSchool } from '#appliance/services/school_settings'

/** The school's time zone, in which dates such as "valid until 2027-07-01" end. */
export async function schoolZone(): Promise<string> {
  const school = await currentSchool()
  return school?.timeZone ?? 'Asia/Shanghai'
}
