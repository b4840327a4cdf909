import { DateTime } from 'luxon'
import { BaseModel, belongsTo, column } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import Person from '#identity/models/person'
import { fenFromDb } from '#ledger/services/money'
import type { AccountKind, NormalSide } from '#ledger/services/account_kinds'

/**
 * A double-entry account. Rows are written by the ledger's services only:
 * `walletFor`, `systemAccount`, `merchantAccount` create them, and PostTransfer
 * is the one place that changes `balance`.
 */
export default class LedgerAccount extends BaseModel {
  static table = 'ledger_accounts'

  @column({ isPrimary: true, serializeAs: null })
  declare id: number

  @column()
  declare publicId: string

  @column()
  declare kind: AccountKind

  @column()
  declare normalSide: NormalSide

  @column()
  declare currency: string

  @column({ serializeAs: null })
  declare personId: number | null

  @column({ serializeAs: null })
  declare merchantId: number | null

  @column()
  declare code: string | null

  /** Sum of the postings (credits positive); see `shownBalance` for display. */
  @column({ consume: fenFromDb })
  declare balance: number

  @column({ consume: Boolean })
  declare allowNegative: boolean

  @column({ consume: Boolean })
  declare frozen: boolean

  @column({ consume: fenFromDb })
  declare version: number

  @column.dateTime()
  declare createdAt: DateTime

  @column.dateTime()
  declare updatedAt: DateTime

  @belongsTo(() => Person)
  declare person: BelongsTo<typeof Person>

  /** The balance as the account's holder reads it: positive on its normal side. */
  get shownBalance(): number {
    return this.normalSide === 'credit' ? this.balance : -this.balance || 0
  }
}
