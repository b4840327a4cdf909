import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import type { AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import Person from '#identity/models/person'
import { systemAccount, walletFor } from '#ledger/services/accounts'
import { arrearsAccountIdOf, settleArrears } from '#ledger/services/arrears'
import {
  loadBookedTransfer,
  PostTransfer,
  type BookedTransfer,
  type PostTransferError,
} from '#ledger/actions/post_transfer'

export interface CounterTopUp {
  /** The person whose cash wallet is topped up, by public id. */
  personPublicId: string
  /** Fen, at least 1 and at most MAX_COUNTER_TOP_UP. */
  amount: number
  /** The key of the form the cashier submitted: a double submit books once. */
  idempotencyKey: string
  memo?: string | null
  actor: AuditActor
}

export type TopUpError =
  PostTransferError | 'person_not_found' | 'person_left' | 'amount_out_of_range'

/** A counter top-up's receipt, with the arrears it settled (when the holder owed any). */
export type CounterTopUpReceipt = BookedTransfer & {
  arrearsSettlement?: BookedTransfer | null
  /** Fen of arrears the top-up settled (0 when none). */
  arrearsSettled?: number
}

/** Fen a settlement took from the wallet: its one debit besides the control account's. */
function settledBy(settlement: BookedTransfer | null, walletId: number): number {
  return -(settlement?.postings.find((posting) => posting.accountId === walletId)?.amount ?? 0)
}

/** Rolls the top-up back with its settlement: neither is booked without the other. */
class ArrearsSettlementFailed extends Error {
  constructor(readonly code: PostTransferError) {
    super(`arrears settlement refused: ${code}`)
  }
}

/** ¥10,000.00: more than any canteen top-up, small enough to catch a slip of the finger. */
export const MAX_COUNTER_TOP_UP = 1_000_000

/**
 * A cashier takes cash (or a card payment) at the service counter and tops
 * up a person's cash wallet: the counter's clearing account is debited, the
 * wallet credited. The transfer number is the receipt number.
 *
 * A holder with arrears (an offline overspend the advance fund paid) has
 * them settled first: in the same database transaction, as much of the new
 * cash balance as the arrears need goes back to the advance fund
 * (services/arrears.ts). A retried top-up settles nothing more.
 */
export class TopUpAtCounter {
  async handle(
    input: CounterTopUp,
    trx?: TransactionClientContract
  ): Promise<Result<CounterTopUpReceipt, TopUpError>> {
    if (
      !Number.isSafeInteger(input.amount) ||
      input.amount < 1 ||
      input.amount > MAX_COUNTER_TOP_UP
    )
      return fail('amount_out_of_range')
    const client = trx ?? db.connection()
    const person = await Person.query({ client })
      .where('public_id', String(input.personPublicId).toUpperCase())
      .first()
    if (!person) return fail('person_not_found')
    if (person.status === 'left') return fail('person_left')

    // Accounts are created outside the booking transaction: they are needed
    // whatever happens to this top-up, and on SQLite the booking transaction
    // then begins with its write.
    const wallet = await walletFor(person.id, 'cash', trx)
    const counter = await systemAccount('counter_clearing', trx)
    const request = {
      idempotencyKey: input.idempotencyKey,
      kind: 'top_up',
      postings: [
        { account: counter, amount: -input.amount },
        { account: wallet, amount: input.amount },
      ],
      memo: input.memo ?? null,
      metadata: { channel: 'counter', person: person.publicId },
      actor: input.actor,
      auditAction: 'ledger.counter_top_up',
    }
    // Most holders never owe anything: their top-up is the one transfer.
    const arrearsId = await arrearsAccountIdOf(person.id, client)
    if (arrearsId === null) return new PostTransfer().handle(request, trx)

    const book = async (
      own: TransactionClientContract
    ): Promise<Result<CounterTopUpReceipt, TopUpError>> => {
      const topUp = await new PostTransfer().handle(request, own)
      if (!topUp.ok) return topUp
      const settlementKey = `arrears:${topUp.value.publicId}`
      if (topUp.value.replayed) {
        // Settled (or not) when first booked: report what was booked then.
        const earlier = await own
          .from('ledger_transfers')
          .where('idempotency_key', settlementKey)
          .select('id')
          .first()
        const arrearsSettlement = earlier
          ? await loadBookedTransfer(own, Number(earlier.id), true)
          : null
        return ok({
          ...topUp.value,
          arrearsSettlement,
          arrearsSettled: settledBy(arrearsSettlement, wallet.id),
        })
      }
      const settled = await settleArrears(own, person.id, {
        idempotencyKey: settlementKey,
        actor: input.actor,
        refersToTransferId: topUp.value.id,
      })
      if (!settled.ok) throw new ArrearsSettlementFailed(settled.error)
      return ok({
        ...topUp.value,
        arrearsSettlement: settled.value,
        arrearsSettled: settledBy(settled.value, wallet.id),
      })
    }
    if (trx) return book(trx)
    try {
      return await db.transaction(book)
    } catch (error) {
      if (error instanceof ArrearsSettlementFailed) return fail(error.code)
      throw error
    }
  }
}
