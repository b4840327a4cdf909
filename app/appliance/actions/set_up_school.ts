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
  /**
   * The base32 TOTP secret shown to the admin, and a code they read back from
   * their app. Without them (setup from the command line) the admin has no
   * second factor yet and must enroll one at the first sign-in.
   */
  totpSecret?: string
  totpCode?: string
}

interface ConfirmedFactor {
  secret: string
  step: number
}

export type SetupError = 'already_set_up' | 'totp_mismatch' | PasswordProblem

/**
 * First-run setup: creates the school and its first super-admin, with a
 * confirmed TOTP factor when the wizard supplies one. Refuses to run once a
 * school exists, whichever process (wizard or command) gets there first.
 */
export class SetUpSchool {
  async handle(
    input: SetupInput,
    actor: AuditActor
  ): Promise<Result<{ school: School; admin: User }, SetupError>> {
    const problems = passwordProblems(input.password, input.username)
    if (problems.length > 0) return fail(problems[0], { problems })
    let factor: ConfirmedFactor | null = null
    if (input.totpSecret !== undefined || input.totpCode !== undefined) {
      const step = verifyTotp(input.totpSecret ?? '', input.totpCode ?? '')
      if (step === null || !input.totpSecret) return fail('totp_mismatch')
      factor = { secret: input.totpSecret, step }
    }

    const result = await this.create(input, factor, actor).catch(async (error) => {
      // Two setups racing: the school row has the fixed id 1, so the loser's
      // insert fails; if a school now exists, that is the expected refusal.
      forgetSchool()
      if (await School.query().first()) return null
      throw error
    })
    forgetSchool()
    return result ? ok(result) : fail('already_set_up')
  }

  private create(input: SetupInput, factor: ConfirmedFactor | null, actor: AuditActor) {
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
          totpSecret: factor ? encryption.encrypt(factor.secret) : null,
          totpConfirmedAt: factor ? DateTime.utc() : null,
          totpLastStep: factor?.step ?? null,
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
            admin: {
              publicId: admin.publicId,
              username: admin.username,
              role: admin.role,
              secondFactor: factor ? 'confirmed' : 'enroll_at_first_sign_in',
            },
          },
        },
        trx
      )
      return { school, admin }
    })
  }
}
