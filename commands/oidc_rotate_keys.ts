import { BaseCommand, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'

/**
 * Makes a new pair of OpenID Connect signing keys (RS256 and EdDSA). The
 * new keys sign ID tokens from now on; the previous keys stay published in
 * the JWKS so that relying parties can still verify tokens they signed, and
 * are withdrawn by a later rotation once they have been superseded longer
 * than --retire-after. Web processes pick the new keys up on their next
 * request.
 */
export default class OidcRotateKeys extends BaseCommand {
  static commandName = 'oidc:rotate-keys'
  static description =
    'Make new OpenID Connect signing keys; previous keys stay published until their tokens expire'
  static help = [
    'ID tokens live an hour. A superseded key stays in the JWKS for --retire-after seconds',
    '(default one day), so that relying parties verify the tokens it signed; keys superseded',
    'longer ago than that are withdrawn and their files deleted by this rotation.',
    '',
    'If a key may have leaked, rotate with --retire-after 0, then once more: the second',
    'rotation withdraws the suspect key at once.',
    '',
    '{{ binaryName }} oidc:rotate-keys',
    '{{ binaryName }} oidc:rotate-keys --retire-after 0 --json',
  ]
  static options: CommandOptions = { startApp: true }

  @flags.number({ description: 'Seconds a superseded key stays published (default 86400)' })
  declare retireAfter?: number

  @flags.boolean({ description: 'Print the result as JSON' })
  declare json?: boolean

  async run() {
    if (
      this.retireAfter !== undefined &&
      (!Number.isInteger(this.retireAfter) || this.retireAfter < 0)
    ) {
      this.logger.error('--retire-after takes a whole number of seconds, 0 or more')
      this.exitCode = 1
      return
    }
    const { rotateOidcKeys } = await import('#app_center/services/oidc_keys')
    const rotation = rotateOidcKeys({ retireAfterSeconds: this.retireAfter })
    if (this.json) {
      this.logger.log(JSON.stringify(rotation))
    } else {
      for (const key of rotation.current) {
        this.logger.success(`New ${key.alg} key ${key.kid} signs from now on`)
      }
      for (const key of rotation.kept) {
        this.logger.log(`Still published for verification: ${key.alg} ${key.kid}`)
      }
      for (const key of rotation.retired) {
        this.logger.warning(`Withdrawn and deleted: ${key.alg} ${key.kid}`)
      }
    }
    await this.audit(rotation)
  }

  private async audit(rotation: {
    current: { kid: string }[]
    kept: { kid: string }[]
    retired: { kid: string }[]
  }) {
    const { auditLogProblem, operatorActor } = await import('#appliance/services/operator_audit')
    const problem = await auditLogProblem()
    if (problem) {
      this.logger.log(this.colors.dim(`Not recorded in the audit log: ${problem}.`))
      return
    }
    const { recordAudit } = await import('#core/services/audit')
    await recordAudit(operatorActor(OidcRotateKeys.commandName), {
      action: 'apps.signing_keys_rotated',
      subjectType: 'appliance',
      after: {
        current: rotation.current.map((key) => key.kid),
        published: rotation.kept.map((key) => key.kid),
        withdrawn: rotation.retired.map((key) => key.kid),
      },
    })
  }
}
