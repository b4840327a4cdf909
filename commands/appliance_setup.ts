import { BaseCommand, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'
import type { AuditActor } from '#core/services/audit'

/** Where each validated field comes from on the command line. */
const FLAG_OF: Record<string, string> = {
  schoolName: '--school-name',
  schoolCode: '--school-code',
  timeZone: '--time-zone',
  defaultLocale: '--locale',
  username: '--admin-username',
  displayName: '--admin-name',
  email: '--admin-email',
  password: 'password',
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '')
}

/**
 * The first-run wizard without a browser: creates the school and its first
 * super admin through the same action and the same rules as /setup. The admin
 * enrolls an authenticator app (TOTP) at the first sign-in. Runs only once.
 */
export default class ApplianceSetup extends BaseCommand {
  static commandName = 'appliance:setup'
  static description =
    'Set up the school and its first super admin without the web wizard (runs once)'
  static help = [
    'The password comes from --admin-password-stdin, the QUAD_ADMIN_PASSWORD environment variable, or --admin-password (which other users can see in the process list).',
    'It needs at least 12 characters with letters and digits, and may not contain the username.',
    'The admin sets up two-step verification (TOTP) at the first sign-in.',
    '',
    'printf %s "$PASSWORD" | {{ binaryName }} appliance:setup --school-name "South China Model University" \\',
    '  --school-code SCMU --time-zone Asia/Shanghai --locale zh-CN \\',
    '  --admin-username admin --admin-name "Wang Li" --admin-password-stdin',
  ]
  static options: CommandOptions = { startApp: true }

  @flags.string({ description: 'School name (2–120 characters)' })
  declare schoolName?: string

  @flags.string({ description: 'School code: 2–32 letters, digits, _ or -' })
  declare schoolCode?: string

  @flags.string({ description: 'IANA time zone', default: 'Asia/Shanghai' })
  declare timeZone: string

  @flags.string({ description: 'Default language: zh-CN or en', default: 'zh-CN' })
  declare locale: string

  @flags.string({ description: 'Super admin username (lowercase letter first, 3–64 characters)' })
  declare adminUsername?: string

  @flags.string({ description: 'Super admin full name' })
  declare adminName?: string

  @flags.string({ description: 'Super admin e-mail (optional)' })
  declare adminEmail?: string

  @flags.string({ description: 'Super admin password (prefer --admin-password-stdin)' })
  declare adminPassword?: string

  @flags.boolean({ description: 'Read the super admin password from standard input' })
  declare adminPasswordStdin?: boolean

  async run() {
    const { isSetUp, currentSchool } = await import('#appliance/services/school_settings')
    const { operatorActor } = await import('#appliance/services/operator_audit')
    const actor = operatorActor(ApplianceSetup.commandName)
    if (await isSetUp()) return this.refuseSecondRun(actor, await currentSchool())

    const missing = [
      ['--school-name', this.schoolName],
      ['--school-code', this.schoolCode],
      ['--admin-username', this.adminUsername],
      ['--admin-name', this.adminName],
    ].filter(([, value]) => value === undefined)
    if (missing.length > 0) {
      return this.fail(`Missing ${missing.map(([flag]) => flag).join(', ')}`)
    }
    const password = await this.password()
    if (password === null) return

    const i18n = await this.app.container.make('i18n')
    const en = i18n.locale('en')
    const { setupCommandValidator } = await import('#appliance/validators/setup')
    const { errors } = await import('@vinejs/vine')
    const { passwordProblems } = await import('#identity/services/password_policy')
    // Report the password policy together with the other fields, as the wizard does.
    const weakPassword = passwordProblems(password, this.adminUsername?.toLowerCase()).map(
      (problem) => `password: ${en.t(`appliance.setup.errors.${problem}`)}`
    )
    let data
    try {
      data = await setupCommandValidator.validate(
        {
          schoolName: this.schoolName,
          schoolCode: this.schoolCode,
          timeZone: this.timeZone,
          defaultLocale: this.locale,
          username: this.adminUsername,
          displayName: this.adminName,
          email: this.adminEmail || undefined,
          password,
        },
        { messagesProvider: en.createMessagesProvider() }
      )
    } catch (error) {
      if (!(error instanceof errors.E_VALIDATION_ERROR)) throw error
      const messages = (error.messages as { field: string; message: string }[])
        .filter((problem) => problem.field !== 'password')
        .map((problem) => `${FLAG_OF[problem.field] ?? problem.field}: ${problem.message}`)
      for (const message of [...messages, ...weakPassword]) this.logger.error(message)
      this.exitCode = 1
      return
    }
    if (weakPassword.length > 0) {
      for (const message of weakPassword) this.logger.error(message)
      this.exitCode = 1
      return
    }

    const { SetUpSchool } = await import('#appliance/actions/set_up_school')
    const result = await new SetUpSchool().handle(data, actor)
    if (!result.ok) {
      if (result.error === 'already_set_up')
        return this.refuseSecondRun(actor, await currentSchool())
      return this.fail(`password: ${en.t(`appliance.setup.errors.${result.error}`)}`)
    }

    const { school, admin } = result.value
    this.logger.success(`Quad is set up for ${school.name} (${school.code}).`)
    this.logger.log(`  super admin  ${admin.username} (${admin.displayName})`)
    this.logger.log(`  time zone    ${school.timeZone}`)
    this.logger.log(`  language     ${school.defaultLocale}`)
    this.logger.log(
      'Sign in at /login with this username and password. Quad then asks for an authenticator app (TOTP) to be set up.'
    )
  }

  /** The password from the flag, standard input, the environment, or a prompt on a terminal. */
  private async password(): Promise<string | null> {
    if (this.adminPassword !== undefined) return this.adminPassword
    if (this.adminPasswordStdin) return readStdin()
    if (process.env.QUAD_ADMIN_PASSWORD) return process.env.QUAD_ADMIN_PASSWORD
    if (process.stdin.isTTY) {
      const first = await this.prompt.secure('Password for the super admin')
      const second = await this.prompt.secure('The same password again')
      if (first === second) return first
      this.fail('The passwords do not match')
      return null
    }
    this.fail('No password: use --admin-password-stdin, QUAD_ADMIN_PASSWORD or --admin-password')
    return null
  }

  private async refuseSecondRun(actor: AuditActor, school: { name: string } | null) {
    const { recordAudit } = await import('#core/services/audit')
    await recordAudit(actor, { action: 'appliance.setup_refused', outcome: 'denied' })
    this.fail(
      `Quad is already set up${school ? ` for ${school.name}` : ''}: appliance:setup runs only once. Nothing was changed.`
    )
  }

  private fail(message: string) {
    this.logger.error(message)
    this.exitCode = 1
  }
}
