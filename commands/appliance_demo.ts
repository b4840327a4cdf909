import { BaseCommand, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'

/**
 * Loads the demo school (`bin/quad start --demo` runs it): an org tree, a
 * people registry and one console account per role. It only ever loads into
 * an empty registry; on a registry that holds anything it refuses and exits
 * with 1, or with --if-empty does nothing and exits with 0.
 */
export default class ApplianceDemo extends BaseCommand {
  static commandName = 'appliance:demo'
  static description =
    'Load the demo school (org tree, people, console accounts) into an empty people registry'
  static help = [
    'The same --seed always gives the same school. The registry must be empty:',
    'to load the demo again, start from a fresh storage root or database.',
  ]

  static options: CommandOptions = { startApp: true }

  @flags.number({ description: 'How many people to create (1 to 20000)', default: 400 })
  declare people: number

  @flags.number({ description: 'Seed of the generator', default: 42 })
  declare seed: number

  @flags.boolean({
    description: 'Exit successfully without loading anything if the registry is not empty',
    default: false,
  })
  declare ifEmpty: boolean

  async run() {
    const { LoadDemoSchool, DEMO_MAX_PEOPLE } = await import('#identity/actions/load_demo_school')
    if (!Number.isInteger(this.people) || this.people < 1 || this.people > DEMO_MAX_PEOPLE) {
      this.logger.error(`--people must be a whole number from 1 to ${DEMO_MAX_PEOPLE}`)
      this.exitCode = 1
      return
    }
    if (!Number.isInteger(this.seed) || this.seed < 0 || this.seed > 0xffffffff) {
      this.logger.error('--seed must be a whole number from 0 to 4294967295')
      this.exitCode = 1
      return
    }

    const { appUrl } = await import('#config/app')
    const started = Date.now()
    const result = await new LoadDemoSchool().handle({
      people: this.people,
      seed: this.seed,
      onProgress: (progress) => {
        if (progress.stage === 'org') this.logger.info(`org tree: ${progress.units} units`)
        if (progress.stage === 'people')
          this.logger.info(`people: ${progress.done}/${progress.total}`)
        if (progress.stage === 'admins')
          this.logger.info(`console accounts: ${progress.created} created`)
      },
    })

    if (!result.ok) {
      const { orgUnits, people } = result.details as { orgUnits: number; people: number }
      const message =
        `The people registry is not empty (${orgUnits} org units, ${people} people): ` +
        'the demo school loads only into an empty registry. Start from a fresh storage root ' +
        'or database to load it again.'
      if (this.ifEmpty) {
        this.logger.info(`Demo not loaded. ${message}`)
        return
      }
      this.logger.error(message)
      this.exitCode = 1
      return
    }

    const summary = result.value
    const seconds = ((Date.now() - started) / 1000).toFixed(1)
    this.logger.success(
      `Demo school loaded in ${seconds} s (seed ${this.seed}): ${summary.school.name} ` +
        `(${summary.school.code})${summary.school.created ? ', created' : ''}`
    )

    const units = this.ui.table()
    units.head(['org unit kind', 'count'])
    for (const [kind, count] of Object.entries(summary.unitsByKind))
      units.row([kind, String(count)])
    units.render()

    const people = this.ui.table()
    people.head(['identity type', 'people'])
    for (const [type, count] of Object.entries(summary.peopleByType))
      people.row([type, String(count)])
    people.render()

    const accounts = this.ui.table()
    accounts.head(['console account', 'role', 'password'])
    for (const account of summary.accounts) {
      accounts.row([
        account.username,
        account.role,
        account.created ? summary.password : '(existing account, unchanged)',
      ])
    }
    accounts.render()

    this.logger.log(
      `Sign in at ${appUrl}/login. New accounts set up their authenticator (TOTP) at first ` +
        'sign-in. The demo password is public: disable these accounts before real use.'
    )
  }
}
