import { existsSync, readdirSync } from 'node:fs'
import { relative } from 'node:path'
import { BaseCommand, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'
import {
  appKeyPath,
  createdByThisProcess,
  prepareStorageFolders,
  STORAGE_FOLDERS,
  storagePath,
  storageRoot,
  tightenFileMode,
} from '#appliance/services/storage_root'
import { ensureIssuerKey } from '#appliance/services/issuer_keys'
import {
  currentServerCertificate,
  defaultHostNames,
  ensureCertificateAuthority,
  invalidHostNames,
  issueServerCertificate,
  parseHostNames,
  pkiPaths,
  sameHosts,
} from '#appliance/services/pki'

/** A server certificate this close to expiry is renewed by storage:prepare. */
const RENEW_DAYS_BEFORE_EXPIRY = 30

/**
 * Creates what a Quad storage root needs before the first start, and keeps
 * what is already there: safe to run on every start.
 */
export default class StoragePrepare extends BaseCommand {
  static commandName = 'storage:prepare'
  static description =
    'Create the storage folders, app key, campus-code issuer key, appliance CA and HTTPS certificate (keeps existing ones)'
  static help = [
    'Safe to run on every start: existing keys and certificates are kept.',
    'The HTTPS certificate is reissued only when --hosts (or QUAD_HOSTNAMES) names other hosts,',
    `when it expires within ${RENEW_DAYS_BEFORE_EXPIRY} days, or when the CA on disk did not sign it.`,
    "Without --hosts or QUAD_HOSTNAMES a new certificate covers localhost, this machine's host name,",
    'its non-internal IPv4 addresses, 127.0.0.1 and ::1.',
    '',
    '{{ binaryName }} storage:prepare --hosts "quad.school.edu.cn,10.0.0.5"',
  ]
  static options: CommandOptions = { startApp: true }

  @flags.string({
    description: 'Host names and IP addresses for the HTTPS certificate, comma-separated',
  })
  declare hosts?: string

  private created: string[] = []

  private show(state: 'created' | 'kept' | 'renewed' | 'fixed', what: string, detail = '') {
    const label =
      state === 'kept' ? this.colors.dim(state.padEnd(8)) : this.colors.green(state.padEnd(8))
    this.logger.log(`  ${label} ${what.padEnd(24)} ${detail}`.trimEnd())
  }

  private relativePath(path: string) {
    return relative(storageRoot(), path)
  }

  async run() {
    const wanted = this.hosts ?? process.env.QUAD_HOSTNAMES
    const hosts = wanted === undefined ? null : parseHostNames(wanted)
    if (hosts !== null) {
      const bad = invalidHostNames(hosts)
      if (hosts.length === 0 || bad.length > 0) {
        this.logger.error(
          hosts.length === 0
            ? 'No host names given: pass --hosts "name,10.0.0.5"'
            : `Not a host name or IP address: ${bad.join(', ')}`
        )
        this.exitCode = 1
        return
      }
    }

    this.logger.log(`Storage root ${storageRoot()}`)
    this.prepareFolders()
    this.prepareAppKey()

    const issuer = ensureIssuerKey()
    if (issuer.created) this.created.push('issuer_key')
    for (const file of readdirSync(storagePath('keys', 'issuer')))
      tightenFileMode(storagePath('keys', 'issuer', file))
    this.show(issuer.created ? 'created' : 'kept', 'campus-code issuer key', `key id ${issuer.kid}`)

    const ca = ensureCertificateAuthority()
    if (ca.created) this.created.push('certificate_authority')
    const caModesFixed = [pkiPaths.caKey(), pkiPaths.caCert()].map(tightenFileMode).some(Boolean)
    this.show(
      ca.created ? 'created' : caModesFixed ? 'fixed' : 'kept',
      'appliance CA',
      this.relativePath(pkiPaths.caCert())
    )

    const certificate = this.prepareServerCertificate(hosts)

    this.logger.log('')
    this.logger.log(`CA certificate  ${pkiPaths.caCert()}`)
    this.logger.log(`CA fingerprint  SHA256 ${ca.fingerprint256}`)
    this.logger.log(
      'Import the CA certificate into browsers (as a trusted authority) and compare the fingerprint.'
    )

    if (this.created.length > 0) await this.audit(issuer.kid, ca.fingerprint256, certificate)
  }

  private prepareFolders() {
    const createdAtBoot = createdByThisProcess()
    const created = [...createdAtBoot, ...prepareStorageFolders()].filter(
      (path) => path !== appKeyPath()
    )
    if (created.length > 0) this.created.push('folders')
    this.show(
      created.length > 0 ? 'created' : 'kept',
      'folders (0700)',
      created.length > 0
        ? created.map((path) => this.relativePath(path) || '.').join(', ')
        : STORAGE_FOLDERS.join(', ')
    )
  }

  private prepareAppKey() {
    if (process.env.APP_KEY && !existsSync(appKeyPath())) {
      this.show('kept', 'app key', 'from the APP_KEY environment variable')
      return
    }
    const created = createdByThisProcess().includes(appKeyPath())
    if (created) this.created.push('app_key')
    const fixed = tightenFileMode(appKeyPath())
    this.show(
      created ? 'created' : fixed ? 'fixed' : 'kept',
      'app key',
      this.relativePath(appKeyPath())
    )
  }

  private prepareServerCertificate(hosts: string[] | null) {
    const current = currentServerCertificate()
    let reason: string | null = null
    if (!current) reason = 'created'
    else if (!current.signedByCa) reason = 'not signed by the CA on disk'
    else if (current.daysLeft < RENEW_DAYS_BEFORE_EXPIRY)
      reason = `expires in ${current.daysLeft} days`
    else if (hosts && !sameHosts(hosts, current.hosts)) reason = 'host names changed'

    if (!reason && current) {
      const fixed = [pkiPaths.serverKey(), pkiPaths.serverCert()].map(tightenFileMode).some(Boolean)
      this.show(
        fixed ? 'fixed' : 'kept',
        'HTTPS certificate',
        `${current.hosts.join(', ')} (valid until ${current.notAfter})`
      )
      return { hosts: current.hosts, notAfter: current.notAfter, reissued: false }
    }
    const issued = issueServerCertificate(hosts ?? current?.hosts ?? defaultHostNames())
    this.created.push('server_certificate')
    this.show(
      current ? 'renewed' : 'created',
      'HTTPS certificate',
      `${issued.hosts.join(', ')} (valid until ${issued.notAfter})${current ? `: ${reason}` : ''}`
    )
    return { hosts: issued.hosts, notAfter: issued.notAfter, reissued: true }
  }

  /**
   * New keys are worth an audit entry. On a fresh install the database may
   * not exist yet: the keys are then made before the audit log, which is fine.
   */
  private async audit(
    issuerKid: string,
    caFingerprint: string,
    certificate: { hosts: string[]; notAfter: string }
  ) {
    const { auditLogProblem, operatorActor } = await import('#appliance/services/operator_audit')
    const problem = await auditLogProblem()
    if (problem) {
      this.logger.log(this.colors.dim(`Not recorded in the audit log: ${problem}.`))
      return
    }
    const { recordAudit } = await import('#core/services/audit')
    await recordAudit(operatorActor(StoragePrepare.commandName), {
      action: 'appliance.storage_prepared',
      subjectType: 'appliance',
      after: {
        created: this.created,
        issuerKid,
        caFingerprint,
        certificateHosts: certificate.hosts,
        certificateNotAfter: certificate.notAfter,
      },
    })
  }
}
