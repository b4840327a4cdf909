import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import type { AuditActor } from '#core/services/audit'
import { fail, type Result } from '#core/services/result'
import Person from '#identity/models/person'
import { systemAccount, walletFor } from '#ledger/services/accounts'
import {
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

/** ¥10,000.00: more than any canteen top-up, small enough to catch a slip of the finger. */
export const MAX_COUNTER_TOP_UP = 1_000_000

/**
 * A cashier takes cash (or a card payment) at the service counter and tops
 * up a person's cash wallet: the counter's clearing account is debited, the
 * wallet credited. The transfer number is the receipt number.
 */
export class TopUpAtCounter {
  async handle(
    input: CounterTopUp,
    trx?: TransactionClientContract
  ): Promise<Result<BookedTransfer, TopUpError>> {
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
    return new PostTransfer().handle(
      {
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
      },
      trx
    )
  }
}
