import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import Person from '#identity/models/person'
import { PostTransfer, type PostTransferError } from '#ledger/actions/post_transfer'
import { sweepLots, type SweepSummary } from '#ledger/actions/wallet_batches'
import { shownBalance } from '#ledger/services/account_kinds'
import { systemAccount, walletFor } from '#ledger/services/accounts'

export interface LeaveRefundInput {
  personPublicId: string
  /** The key of the form the cashier submitted: a double submit pays out once. */
  idempotencyKey: string
  actor: AuditActor
}

export type LeaveRefundError = PostTransferError | 'person_not_found' | 'person_not_left'

export interface LeaveRefundOutcome {
  /** Fen paid out at the counter (0 when the cash wallet was empty). */
  paidOut: number
  transferPublicId: string | null
  replayed: boolean
  /** Subsidy and voucher money taken back to funding. */
  swept: SweepSummary
}

/**
 * Settles the wallets of a person who has left: the cash wallet is paid out
 * at the counter (the cash wallet debited, the counter's clearing account
 * credited: cash leaves the till), and whatever is left of subsidies and
 * vouchers goes back to subsidy funding. Only for people whose status is
 * "left", so a mistaken click cannot empty an active holder's wallet.
 */
export class RefundOnLeaving {
  async handle(input: LeaveRefundInput): Promise<Result<LeaveRefundOutcome, LeaveRefundError>> {
    const person = await Person.query()
      .where('public_id', String(input.personPublicId).toUpperCase())
      .first()
    if (!person) return fail('person_not_found')
    if (person.status !== 'left') return fail('person_not_left')

    const swept = await sweepLots({ personId: person.id }, input.actor)
    const wallet = await walletFor(person.id, 'cash')
    const counter = await systemAccount('counter_clearing')
    const balance = shownBalance(wallet.normalSide, wallet.balance)
    let paidOut = 0
    let transferPublicId: string | null = null
    let replayed = false
    if (balance > 0) {
      const booked = await new PostTransfer().handle({
        idempotencyKey: input.idempotencyKey,
        kind: 'leave_refund',
        postings: [
          { account: wallet, amount: -balance },
          { account: counter, amount: balance },
        ],
        metadata: { channel: 'counter', person: person.publicId },
        actor: input.actor,
        auditAction: 'ledger.leave_refund',
      })
      if (!booked.ok) return booked
      paidOut = booked.value.amount
      transferPublicId = booked.value.publicId
      replayed = booked.value.replayed
    } else if (swept.amount > 0) {
      await recordAudit(input.actor, {
        action: 'ledger.leave_refund',
        subjectType: 'person',
        subjectId: person.publicId,
        after: { paidOut: 0, swept: swept.amount },
      })
    }
    return ok({ paidOut, transferPublicId, replayed, swept })
  }
}
