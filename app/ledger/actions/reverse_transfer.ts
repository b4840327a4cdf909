import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import type { AuditActor } from '#core/services/audit'
import { fail, type Result } from '#core/services/result'
import { fenFromDb } from '#ledger/services/money'
import {
  PostTransfer,
  type BookedTransfer,
  type PostTransferError,
} from '#ledger/actions/post_transfer'

export interface ReversalRequest {
  /** The transfer to undo, by public id (as shown in the console) or internal id. */
  transfer: { publicId: string } | { id: number }
  idempotencyKey: string
  memo?: string | null
  actor: AuditActor
  audit?: boolean
}

/**
 * Undoes a transfer in full with a new transfer: the same postings negated,
 * referencing the original. Nothing is edited or deleted; a transfer is
 * reversed at most once, a reversal itself is never reversed, and a transfer
 * that already has follow-ups (partial refunds) is not reversed in full.
 * An account that no longer holds the money (a top-up already spent) refuses
 * with insufficient_funds, as any other transfer would.
 */
export class ReverseTransfer {
  async handle(
    request: ReversalRequest,
    trx?: TransactionClientContract
  ): Promise<Result<BookedTransfer, PostTransferError>> {
    const client = trx ?? db.connection()
    const query = client.from('ledger_transfers').select('id', 'public_id')
    if ('publicId' in request.transfer)
      query.where('public_id', String(request.transfer.publicId).toUpperCase())
    else query.where('id', request.transfer.id)
    const original = await query.first()
    if (!original) return fail('unknown_transfer')
    const postings = await client
      .from('ledger_postings')
      .where('transfer_id', original.id)
      .orderBy('id')
      .select('account_id', 'amount')

    return new PostTransfer().handle(
      {
        idempotencyKey: request.idempotencyKey,
        kind: 'reversal',
        postings: postings.map((posting) => ({
          account: Number(posting.account_id),
          amount: -fenFromDb(posting.amount),
        })),
        memo: request.memo ?? null,
        reversesTransferId: Number(original.id),
        actor: request.actor,
        audit: request.audit,
      },
      trx
    )
  }
}
