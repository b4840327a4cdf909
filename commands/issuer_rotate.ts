import { BaseCommand, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'

/**
 * Makes a new campus-code issuer key and retires the current one. Credentials
 * the old key signed stay valid until they expire (7 days at most): its
 * public key stays in the list terminals sync until then, and every portal
 * that is online fetches a credential signed by the new key within the hour.
 */
export default class IssuerRotate extends BaseCommand {
  static commandName = 'issuer:rotate'
  static description =
    'Make a new campus-code issuer key; old key ids stay accepted until their credentials expire'
  static help = [
    'Routine rotation keeps the old public key: codes of credentials it signed keep verifying',
    'until those credentials expire (7 days at most). Its private key is deleted.',
    '',
    'If a key may have leaked, add --withdraw-previous: every older key is dropped at once and',
    'its credentials are refused everywhere as soon as terminals sync; phones need to be online',
    'once to get a new credential.',
    '',
    '{{ binaryName }} issuer:rotate',
    '{{ binaryName }} issuer:rotate --withdraw-previous',
  ]
  static options: CommandOptions = { startApp: true }

  @flags.boolean({ description: 'Stop accepting all older keys now (suspected compromise)' })
  declare withdrawPrevious?: boolean

  @flags.boolean({ description: 'Print the result as JSON' })
  declare json?: boolean

  async run() {
    const { rotateIssuerKey } = await import('#appliance/services/issuer_keys')
    const { MAX_CREDENTIAL_LIFETIME_SECONDS } = await import('#cards/campus_code/layout')
    const rotation = rotateIssuerKey({ withdrawPrevious: this.withdrawPrevious === true })
    const acceptedUntil =
      rotation.previousKid && rotation.withdrawn.length === 0
        ? new Date((rotation.rotatedAt + MAX_CREDENTIAL_LIFETIME_SECONDS) * 1000).toISOString()
        : null

    if (this.json) {
      this.logger.log(JSON.stringify({ ...rotation, previousAcceptedUntil: acceptedUntil }))
    } else {
      this.logger.success(`New issuer key ${rotation.kid} signs credentials from now on`)
      if (rotation.withdrawn.length > 0) {
        this.logger.warning(`Withdrawn, no longer accepted: ${rotation.withdrawn.join(', ')}`)
      } else if (rotation.previousKid) {
        this.logger.log(
          `Key ${rotation.previousKid} signs no more; its credentials stay valid until they expire (by ${acceptedUntil})`
        )
      }
    }
    await this.audit(rotation)
  }

  private async audit(rotation: { kid: string; previousKid: string | null; withdrawn: string[] }) {
    const { auditLogProblem, operatorActor } = await import('#appliance/services/operator_audit')
    const problem = await auditLogProblem()
    if (problem) {
      this.logger.log(this.colors.dim(`Not recorded in the audit log: ${problem}.`))
      return
    }
    const { recordAudit } = await import('#core/services/audit')
    await recordAudit(operatorActor(IssuerRotate.commandName), {
      action: 'appliance.issuer_key_rotated',
      subjectType: 'appliance',
      before: { kid: rotation.previousKid },
      after: { kid: rotation.kid, withdrawn: rotation.withdrawn },
    })
  }
}
