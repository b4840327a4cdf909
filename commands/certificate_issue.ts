import { BaseCommand, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'
import {
  currentServerCertificate,
  defaultHostNames,
  createServerCertificate,
  ensureCertificateAuthority,
  installServerCertificate,
  invalidHostNames,
  parseHostNames,
  pkiPaths,
} from '#appliance/services/pki'

/**
 * Issues a new HTTPS server certificate, signed by the appliance CA, for the
 * names and addresses that browsers use to reach Quad. Browsers that trust
 * the CA accept the new certificate without any change on their side.
 */
export default class CertificateIssue extends BaseCommand {
  static commandName = 'certificate:issue'
  static description = 'Issue a new HTTPS server certificate for the given host names and IPs'
  static help = [
    'Without --hosts, renews the certificate for the names it covers now.',
    'The running web process serves the new certificate within a few seconds; no restart needed.',
    '',
    '{{ binaryName }} certificate:issue --hosts "quad.school.edu.cn,10.0.0.5"',
  ]
  static options: CommandOptions = { startApp: true }

  @flags.string({
    description: 'Host names and IP addresses, comma-separated (the first one is the main name)',
  })
  declare hosts?: string

  async run() {
    const hosts =
      this.hosts !== undefined
        ? parseHostNames(this.hosts)
        : (currentServerCertificate()?.hosts ?? defaultHostNames())
    if (hosts.length === 0) {
      this.fail('No host names given: pass --hosts "quad.school.edu.cn,10.0.0.5"')
      return
    }
    const bad = invalidHostNames(hosts)
    if (bad.length > 0) {
      this.fail(`Not a host name or IP address: ${bad.join(', ')}`)
      return
    }

    // Refuse before touching the files rather than change the certificate unaudited.
    const { auditLogProblem, operatorActor } = await import('#appliance/services/operator_audit')
    const problem = await auditLogProblem()
    if (problem) {
      this.fail(`Cannot record the change in the audit log: ${problem}`)
      return
    }

    const previous = currentServerCertificate()
    const ca = ensureCertificateAuthority()
    const created = createServerCertificate(hosts)

    // The audit entry and the files go together: if the entry cannot be
    // written, the certificate on disk stays as it was.
    const { default: db } = await import('@adonisjs/lucid/services/db')
    const { recordAudit } = await import('#core/services/audit')
    const issued = await db.transaction(async (trx) => {
      await recordAudit(
        operatorActor(CertificateIssue.commandName),
        {
          action: 'appliance.certificate_issued',
          subjectType: 'certificate',
          subjectId: created.serialNumber,
          before: previous
            ? {
                hosts: previous.hosts,
                notAfter: previous.notAfter,
                serialNumber: previous.serialNumber,
                fingerprint: previous.fingerprint256,
              }
            : null,
          after: {
            hosts: created.hosts,
            notAfter: created.notAfter,
            serialNumber: created.serialNumber,
            fingerprint: created.fingerprint256,
          },
        },
        trx
      )
      return installServerCertificate(created)
    })

    this.logger.success(`Issued a new HTTPS certificate: ${pkiPaths.serverCert()}`)
    this.logger.log(`  names        ${issued.hosts.join(', ')}`)
    this.logger.log(`  valid until  ${issued.notAfter}`)
    this.logger.log(`  fingerprint  SHA256 ${issued.fingerprint256}`)
    this.logger.log(
      `  signed by    ${ca.subject.replace(/\n/g, ', ')} (SHA256 ${ca.fingerprint256})`
    )
    this.logger.log('The running web process serves it to new connections within a few seconds.')
  }

  private fail(message: string) {
    this.logger.error(message)
    this.exitCode = 1
  }
}
