import { BaseCommand, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'

/**
 * Rotates the key that encrypts phone and ID numbers (keys/pii.key):
 * makes a new key, re-encrypts every person's numbers with it in batches,
 * then deletes the previous key once no row uses it. With --blind-index the
 * blind-index key (keys/pii-index.key) is replaced too and every index
 * recomputed; searches by phone or ID number may miss people until that
 * pass ends. Safe to run while the appliance serves; if interrupted, run
 * it again to finish. Audited. Take a backup first: a backup made before
 * the rotation holds the old key and still restores.
 */
export default class PiiRotateKey extends BaseCommand {
  static commandName = 'pii:rotate-key'
  static description =
    'Rotate the encryption key of phone and ID numbers and re-encrypt every person'
  static options: CommandOptions = { startApp: true }

  @flags.boolean({ description: 'Also rotate the blind-index key and recompute every index' })
  declare blindIndex: boolean

  @flags.number({ description: 'People re-encrypted per transaction', default: 500 })
  declare batchSize: number

  async run() {
    const { rotatePiiKeys } = await import('#identity/services/pii_rotation')
    const { auditLogProblem, operatorActor } = await import('#appliance/services/operator_audit')
    const problem = await auditLogProblem()
    if (problem) {
      this.exitCode = 1
      this.logger.error(`Cannot record the rotation in the audit log: ${problem}`)
      return
    }
    const batchSize =
      Number.isInteger(this.batchSize) && this.batchSize > 0 ? Math.min(this.batchSize, 5000) : 500
    const labels = { reencrypt: 'Re-encrypting', reindex: 'Recomputing blind indexes' }
    let lastReport = 0
    try {
      const outcome = await rotatePiiKeys(operatorActor(PiiRotateKey.commandName), {
        blindIndex: this.blindIndex === true,
        batchSize,
        onProgress: ({ stage, done, total }) => {
          // A line at the start, at the end and at most one a second between.
          const now = Date.now()
          if (done !== 0 && done < total && now - lastReport < 1000) return
          lastReport = now
          const percent = total ? Math.floor((done / total) * 100) : 100
          this.logger.info(`${labels[stage]}: ${done} / ${total} people (${percent}%)`)
        },
      })
      if (outcome.resumed) this.logger.info('Finished a rotation that had been interrupted')
      this.logger.success(
        `PII key ${outcome.keyId} is current; ${outcome.reencrypted} people re-encrypted; ` +
          `retired ${outcome.retired.join(', ')}`
      )
      if (outcome.reindexed !== null)
        this.logger.success(`Blind-index key replaced; ${outcome.reindexed} people re-indexed`)
    } catch (error) {
      this.exitCode = 1
      this.logger.error(`Rotation stopped: ${(error as Error).message}`)
      this.logger.log(
        'Keys that rows still use are kept: run node ace pii:rotate-key again to finish.'
      )
    }
  }
}
