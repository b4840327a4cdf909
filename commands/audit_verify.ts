import { BaseCommand, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'

const EXPLANATIONS = {
  hash_mismatch: 'the entry no longer matches its hash: it was edited',
  broken_link: 'the entry does not link to the hash of the entry before it',
  missing_rows: 'entries are missing: they were deleted',
  head_mismatch: 'the chain head (audit_heads) does not point at the last entry',
} as const

/**
 * Checks the audit log's hash chain from the first entry to the head and
 * names the first broken link. Exits with 1 when the chain is broken, so
 * that cron and monitoring can alert on it.
 */
export default class AuditVerify extends BaseCommand {
  static commandName = 'audit:verify'
  static description = 'Verify the hash chain of the audit log and report the first broken link'
  static options: CommandOptions = { startApp: true }

  @flags.boolean({ description: 'Print the result as one JSON object on stdout' })
  declare json: boolean

  @flags.number({ description: 'Entries read per database query', default: 2000 })
  declare batchSize: number

  async run() {
    const { verifyAuditChain } = await import('#core/services/audit_verify')
    const { currentSchool } = await import('#appliance/services/school_settings')
    const school = await currentSchool()
    const zone = school?.timeZone ?? 'UTC'
    const batchSize = Number.isFinite(this.batchSize) && this.batchSize > 0 ? this.batchSize : 2000

    const started = Date.now()
    let lastReport = started
    const result = await verifyAuditChain({
      batchSize,
      onProgress: (checked, total) => {
        // Only long runs get progress lines, at most one every two seconds.
        const now = Date.now()
        if (total <= batchSize || checked >= total || now - lastReport < 2000) return
        lastReport = now
        const percent = Math.floor((checked / total) * 100)
        const line = `Verifying audit log: ${checked} / ${total} entries (${percent}%)`
        // With --json, stdout carries the result only.
        if (this.json) process.stderr.write(line + '\n')
        else this.logger.info(line)
      },
    })
    const seconds = (Date.now() - started) / 1000

    if (result.ok) {
      if (this.json) {
        this.logger.log(JSON.stringify({ ok: true, ...result.value, seconds }))
      } else {
        this.logger.success(`OK: ${result.value.count} entries verified`)
        this.logger.log(
          this.colors.dim(`head seq ${result.value.headSeq}, hash ${result.value.headHash}`)
        )
      }
      return
    }

    this.exitCode = 1
    const at = result.at
    const time = at.occurredAt
      ? at.occurredAt.setZone(zone).toISO({ suppressMilliseconds: true })
      : null
    if (this.json) {
      this.logger.log(
        JSON.stringify({
          ok: false,
          reason: at.reason,
          seq: at.seq,
          id: at.id,
          occurredAt: time,
          expected: at.expected,
          found: at.found,
          checkedBeforeBreak: result.checked,
          seconds,
        })
      )
      return
    }
    this.logger.error(
      `BROKEN at seq ${at.seq} (id ${at.id ?? '-'}, ${time ?? 'time unknown'}): ${at.reason}`
    )
    this.logger.log(`  ${EXPLANATIONS[at.reason]}`)
    this.logger.log(`  expected: ${at.expected}`)
    this.logger.log(`  found:    ${at.found}`)
    this.logger.log(`  ${result.checked} entries before it verified`)
  }
}
