import { BaseCommand, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'
import { storageRoot } from '#appliance/services/storage_root'
import { currentCertificateAuthority, currentServerCertificate } from '#appliance/services/pki'
import { currentIssuerKid } from '#appliance/services/issuer_keys'

/** A server certificate this close to expiry is reported as a problem. */
const WARN_DAYS_BEFORE_EXPIRY = 30

interface Status {
  school: { name: string; code: string; timeZone: string; defaultLocale: string } | null
  database: { connection: string; target: string; ok: boolean; detail?: string }
  migrations: { ok: boolean; pending: string[]; detail?: string }
  storage: { path: string; writable: boolean; detail?: string }
  certificate: {
    hosts: string[]
    notAfter: string
    daysLeft: number
    signedByCa: boolean
    fingerprint256: string
  } | null
  ca: { subject: string; fingerprint256: string } | null
  issuerKid: string | null
  problems: string[]
}

/**
 * A quick human summary of the appliance for the operator at the shell. Exits
 * non-zero when something needs attention, so scripts can use it as a check.
 */
export default class ApplianceStatus extends BaseCommand {
  static commandName = 'appliance:status'
  static description =
    'Show the school, database, migrations, storage, HTTPS certificate, CA and issuer key'
  static options: CommandOptions = { startApp: true }

  @flags.boolean({ description: 'Print the status as JSON' })
  declare json?: boolean

  async run() {
    const status = await this.collect()
    if (this.json) this.logger.log(JSON.stringify(status, null, 2))
    else this.print(status)
    if (status.problems.length > 0) this.exitCode = 1
  }

  private async collect(): Promise<Status> {
    const { databaseCheck, pendingMigrations, storageCheck } =
      await import('#appliance/services/readiness')
    const { default: db } = await import('@adonisjs/lucid/services/db')
    const problems: string[] = []

    const connection = db.primaryConnectionName
    const config = db.manager.get(connection)?.config
    const settings = (config?.connection ?? {}) as Record<string, unknown>
    const target =
      config?.client === 'pg'
        ? `${settings.user}@${settings.host}:${settings.port}/${settings.database}`
        : String(settings.filename ?? '')
    const databaseResult = await databaseCheck()
    const database = { connection, target, ok: databaseResult.ok, detail: databaseResult.detail }
    if (!database.ok) problems.push(`database not reachable: ${database.detail}`)

    let school: Status['school'] = null
    const migrations: Status['migrations'] = { ok: false, pending: [] }
    if (database.ok) {
      try {
        migrations.pending = await pendingMigrations()
        migrations.ok = migrations.pending.length === 0
      } catch (error) {
        migrations.detail = (error as Error).message.slice(0, 200)
      }
      if (!migrations.ok) problems.push('migrations pending: node ace migration:run --force')
      if (migrations.ok) {
        const { default: School } = await import('#appliance/models/school')
        const row = await School.query().orderBy('id').first()
        if (row)
          school = {
            name: row.name,
            code: row.code,
            timeZone: row.timeZone,
            defaultLocale: row.defaultLocale,
          }
      }
    }

    const storageResult = await storageCheck()
    const storage = {
      path: storageRoot(),
      writable: storageResult.ok,
      detail: storageResult.detail,
    }
    if (!storage.writable) problems.push(`storage not writable: ${storage.detail}`)

    const current = currentServerCertificate()
    const certificate = current
      ? {
          hosts: current.hosts,
          notAfter: current.notAfter,
          daysLeft: current.daysLeft,
          signedByCa: current.signedByCa,
          fingerprint256: current.fingerprint256,
        }
      : null
    if (!certificate) problems.push('no HTTPS certificate: node ace storage:prepare')
    else if (!certificate.signedByCa)
      problems.push(
        'the HTTPS certificate is not signed by the appliance CA: node ace certificate:issue'
      )
    else if (certificate.daysLeft < WARN_DAYS_BEFORE_EXPIRY)
      problems.push(
        `the HTTPS certificate expires in ${certificate.daysLeft} days: node ace certificate:issue`
      )

    const ca = currentCertificateAuthority()
    if (!ca) problems.push('no appliance CA: node ace storage:prepare')
    const issuerKid = currentIssuerKid()
    if (!issuerKid) problems.push('no campus-code issuer key: node ace storage:prepare')

    return { school, database, migrations, storage, certificate, ca, issuerKid, problems }
  }

  private print(status: Status) {
    const good = (text: string) => this.colors.green(text)
    const bad = (text: string) => this.colors.red(text)
    const line = (label: string, text: string) => this.logger.log(`  ${label.padEnd(13)} ${text}`)

    this.logger.log('Quad appliance status')
    line(
      'school',
      status.school
        ? `${status.school.name} (${status.school.code}), ${status.school.timeZone}, ${status.school.defaultLocale}`
        : this.colors.yellow(
            'not set up yet: open /setup in a browser or run node ace appliance:setup'
          )
    )
    line(
      'database',
      `${status.database.connection} ${status.database.target}: ${
        status.database.ok ? good('reachable') : bad(`not reachable (${status.database.detail})`)
      }`
    )
    line(
      'migrations',
      !status.database.ok
        ? bad('unknown')
        : status.migrations.ok
          ? good('up to date')
          : bad(
              status.migrations.detail ??
                `${status.migrations.pending.length} pending: ${status.migrations.pending.join(', ')}`
            )
    )
    line(
      'storage',
      `${status.storage.path}: ${
        status.storage.writable ? good('writable') : bad(`not writable (${status.storage.detail})`)
      }`
    )
    if (status.certificate) {
      const expiry = `valid until ${status.certificate.notAfter} (${status.certificate.daysLeft} days)`
      line('certificate', status.certificate.hosts.join(', '))
      line(
        '',
        `${status.certificate.daysLeft < WARN_DAYS_BEFORE_EXPIRY ? bad(expiry) : expiry}, ${
          status.certificate.signedByCa
            ? 'signed by the appliance CA'
            : bad('not signed by the appliance CA')
        }`
      )
    } else line('certificate', bad('none'))
    line('CA', status.ca ? `SHA256 ${status.ca.fingerprint256}` : bad('none'))
    line('issuer key', status.issuerKid ? `key id ${status.issuerKid}` : bad('none'))
    if (status.problems.length > 0) {
      this.logger.log('')
      for (const problem of status.problems) this.logger.warning(problem)
    }
  }
}
