import db from '@adonisjs/lucid/services/db'
import encryption from '@adonisjs/core/services/encryption'
import { DateTime } from 'luxon'
import School from '#appliance/models/school'
import User from '#identity/models/user'
import { forgetSchool } from '#appliance/services/school_settings'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import { verifyTotp } from '#core/services/totp'
import { passwordProblems, type PasswordProblem } from '#identity/services/password_policy'

export interface SetupInput {
  schoolName: string
  schoolCode: string
  timeZone: string
  defaultLocale: 'zh-CN' | 'en'
  username: string
  displayName: string
  email?: string | null
  password: string
  /** The base32 TOTP secret shown to the admin, and a code they read back from their app. */
  totpSecret: string
  totpCode: string
}

export type SetupError = 'already_set_up' | 'totp_mismatch' | PasswordProblem

/**
 * First-run setup: creates the school and its first super-admin with a
 * confirmed TOTP factor. Refuses to run once a school exists, whichever
 * process (wizard or command) gets there first.
 */
export class SetUpSchool {
  async handle(
    input: SetupInput,
    actor: AuditActor
  ): Promise<Result<{ school: School; admin: User }, SetupError>> {
    const problems = passwordProblems(input.password, input.username)
    if (problems.length > 0) return fail(problems[0], { problems })
    const step = verifyTotp(input.totpSecret, input.totpCode)
    if (step === null) return fail('totp_mismatch')

    const result = await this.create(input, step, actor).catch(async (error) => {
      // Two setups racing: the school row has the fixed id 1, so the loser's
      // insert fails; if a school now exists, that is the expected refusal.
      forgetSchool()
      if (await School.query().first()) return null
      throw error
    })
    forgetSchool()
    return result ? ok(result) : fail('already_set_up')
  }

  private create(input: SetupInput, step: number, actor: AuditActor) {
    return db.transaction(async (trx) => {
      const existing = await School.query({ client: trx }).first()
      if (existing) return null
      const school = await School.create(
        {
          id: 1,
          name: input.schoolName,
          code: input.schoolCode,
          timeZone: input.timeZone,
          defaultLocale: input.defaultLocale,
        },
        { client: trx }
      )
      const admin = await User.create(
        {
          username: input.username,
          displayName: input.displayName,
          email: input.email ?? null,
          password: input.password,
          role: 'super_admin',
          totpSecret: encryption.encrypt(input.totpSecret),
          totpConfirmedAt: DateTime.utc(),
          totpLastStep: step,
        },
        { client: trx }
      )
      await recordAudit(
        actor,
        {
          action: 'appliance.setup',
          subjectType: 'school',
          subjectId: school.code,
          after: {
            school: {
              name: school.name,
              code: school.code,
              timeZone: school.timeZone,
              defaultLocale: school.defaultLocale,
            },
            admin: { publicId: admin.publicId, username: admin.username, role: admin.role },
          },
        },
        trx
      )
      return { school, admin }
    })
  }
}
