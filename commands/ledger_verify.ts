import { BaseCommand, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'
import type { LedgerProblem } from '#ledger/services/ledger_verify'

/** Fen as yuan with two decimals, signed, for the report. */
function yuan(fen: number): string {
  const sign = fen < 0 ? '-' : ''
  const abs = Math.abs(fen)
  return `${sign}${Math.trunc(abs / 100)}.${String(abs % 100).padStart(2, '0')}`
}

function describe(problem: LedgerProblem): string {
  switch (problem.type) {
    case 'balance_mismatch':
      return (
        `account ${problem.account.publicId} (${problem.account.kind}, ${problem.account.owner ?? '-'}): ` +
        `stored balance ${yuan(problem.stored)}, postings sum to ${yuan(problem.computed)}, ` +
        `difference ${yuan(problem.stored - problem.computed)}`
      )
    case 'chain_break':
      return (
        `account ${problem.account.publicId} (${problem.account.kind}, ${problem.account.owner ?? '-'}): ` +
        `posting ${problem.postingId} has balance_after ${yuan(problem.found)}, the chain gives ${yuan(problem.expected)}`
      )
    case 'overdrawn':
      return (
        `account ${problem.account.publicId} (${problem.account.kind}, ${problem.account.owner ?? '-'}): ` +
        `may not go below zero but holds ${yuan(problem.balance)}`
      )
    case 'unbalanced_transfer':
      return `transfer ${problem.transfer}: postings sum to ${yuan(problem.sum)}, not zero`
    case 'empty_transfer':
      return `transfer ${problem.transfer}: ${problem.postings} posting(s), a transfer needs two or more`
    case 'amount_mismatch':
      return `transfer ${problem.transfer}: stored amount ${yuan(problem.stored)}, credits ${yuan(problem.computed)}`
    case 'book_not_zero':
      return `the book does not sum to zero: postings ${yuan(problem.postingsTotal)}, stored balances ${yuan(problem.balancesTotal)}`
  }
}

/**
 * Recomputes every ledger balance from the postings and checks that each
 * transfer and the whole book sum to zero. Prints each difference and exits
 * with 1 when anything is off, so that cron and monitoring can alert on it.
 */
export default class LedgerVerify extends BaseCommand {
  static commandName = 'ledger:verify'
  static description =
    'Recompute every ledger balance from its postings and check that the books balance'
  static options: CommandOptions = { startApp: true }

  @flags.boolean({ description: 'Print the result as one JSON object on stdout' })
  declare json: boolean

  @flags.number({ description: 'Rows read per database query', default: 5000 })
  declare batchSize: number

  async run() {
    const { verifyLedger } = await import('#ledger/services/ledger_verify')
    const batchSize = Number.isFinite(this.batchSize) && this.batchSize > 0 ? this.batchSize : 5000
    const started = Date.now()
    let lastReport = started
    const result = await verifyLedger({
      batchSize,
      onProgress: ({ stage, done, total }) => {
        // Only long runs get progress lines, at most one every two seconds.
        const now = Date.now()
        if (done >= total || now - lastReport < 2000) return
        lastReport = now
        const line = `Verifying ${stage}: ${done} / ${total} (${Math.floor((done / total) * 100)}%)`
        if (this.json) process.stderr.write(line + '\n')
        else this.logger.info(line)
      },
    })
    const seconds = (Date.now() - started) / 1000
    if (!result.ok) this.exitCode = 1

    if (this.json) {
      this.logger.log(JSON.stringify({ ...result, seconds }))
      return
    }
    const counts = `${result.accounts} accounts, ${result.transfers} transfers, ${result.postings} postings`
    if (result.ok) {
      this.logger.success(
        `OK: ${counts}; every balance matches its postings and the book sums to zero`
      )
      return
    }
    this.logger.error(`${result.problemCount} problem(s) in ${counts}`)
    for (const problem of result.problems) this.logger.log(`  ${describe(problem)}`)
    if (result.problemCount > result.problems.length)
      this.logger.log(`  … and ${result.problemCount - result.problems.length} more`)
  }
}
