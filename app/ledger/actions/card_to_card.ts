import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { AuditActor } from '#core/services/audit'
import { fail, type Result } from '#core/services/result'
import Person from '#identity/models/person'
import {
  PostTransfer,
  type BookedTransfer,
  type PostTransferError,
} from '#ledger/actions/post_transfer'
import { schoolTimeZone } from '#appliance/services/school_settings'
import { dbTime, walletFor } from '#ledger/services/accounts'
import { fenFromDb } from '#ledger/services/money'
import { walletSettings } from '#ledger/services/wallet_settings'

export interface CardToCardInput {
  fromPersonPublicId: string
  toPersonPublicId: string
  amount: number
  idempotencyKey: string
  memo?: string | null
  actor: AuditActor
}

export type CardToCardError =
  | PostTransferError
  | 'disabled'
  | 'person_not_found'
  | 'same_person'
  | 'person_inactive'
  | 'amount_out_of_range'
  | 'daily_limit'

/**
 * Moves cash from one holder's cash wallet to another's (a parent's card to
 * a child's, a student lending a classmate lunch money), when the school
 * has enabled it, within its per-transfer and per-day limits. Subsidies and
 * vouchers never move: they belong to the person they were issued to.
 */
export class CardToCardTransfer {
  async handle(input: CardToCardInput): Promise<Result<BookedTransfer, CardToCardError>> {
    const { cardToCard: settings } = await walletSettings()
    if (!settings.enabled) return fail('disabled')
    if (
      !Number.isSafeInteger(input.amount) ||
      input.amount < 1 ||
      input.amount > settings.maxPerTransfer
    )
      return fail('amount_out_of_range', { max: settings.maxPerTransfer })
    const [from, to] = await Promise.all(
      [input.fromPersonPublicId, input.toPersonPublicId].map((id) =>
        Person.query().where('public_id', String(id).toUpperCase()).first()
      )
    )
    if (!from || !to) return fail('person_not_found')
    if (from.id === to.id) return fail('same_person')
    if (from.status !== 'active' || to.status !== 'active') return fail('person_inactive')
    const source = await walletFor(from.id, 'cash')
    const target = await walletFor(to.id, 'cash')

    // Today's transfers out of this wallet (school day); the limit is checked
    // again inside the booking transaction so that two at once cannot both pass.
    const zone = schoolTimeZone()
    const dayStart = DateTime.now().setZone(zone).startOf('day')
    return db.transaction(async (trx) => {
      if (trx.dialect.name !== 'postgres')
        await trx
          .from('ledger_accounts')
          .where('id', source.id)
          .update({ version: trx.raw('version') })
      else await trx.from('ledger_accounts').where('id', source.id).forUpdate().first()
      const sent = await trx
        .from('ledger_postings as p')
        .join('ledger_transfers as t', 't.id', 'p.transfer_id')
        .where('p.account_id', source.id)
        .where('t.kind', 'card_to_card')
        .where('t.booked_at', '>=', dbTime(trx, dayStart))
        .where('p.amount', '<', 0)
        .sum('p.amount as total')
        .first()
      const today = -fenFromDb(sent?.total ?? 0)
      const replay = await trx
        .from('ledger_transfers')
        .where('idempotency_key', input.idempotencyKey)
        .first()
      if (!replay && today + input.amount > settings.maxPerDay)
        return fail('daily_limit', { max: settings.maxPerDay, sent: today })
      return new PostTransfer().handle(
        {
          idempotencyKey: input.idempotencyKey,
          kind: 'card_to_card',
          postings: [
            { account: source, amount: -input.amount },
            { account: target, amount: input.amount },
          ],
          memo: input.memo ?? null,
          metadata: { from: from.publicId, to: to.publicId },
          actor: input.actor,
          audit: true,
          auditAction: 'ledger.card_to_card',
        },
        trx
      )
    })
  }
}
