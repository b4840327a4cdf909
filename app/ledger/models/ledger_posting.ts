import { DateTime } from 'luxon'
import { BaseModel, belongsTo, column } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import LedgerAccount from '#ledger/models/ledger_account'
import LedgerTransfer from '#ledger/models/ledger_transfer'
import { fenFromDb } from '#ledger/services/money'

/** One line of a transfer: an amount to (positive) or from (negative) one account. */
export default class LedgerPosting extends BaseModel {
  static table = 'ledger_postings'

  @column({ isPrimary: true, serializeAs: null, consume: Number })
  declare id: number

  @column({ serializeAs: null, consume: Number })
  declare transferId: number

  @column({ serializeAs: null })
  declare accountId: number

  @column({ consume: fenFromDb })
  declare amount: number

  @column({ consume: fenFromDb })
  declare balanceAfter: number

  @column.dateTime()
  declare bookedAt: DateTime

  @belongsTo(() => LedgerTransfer, { foreignKey: 'transferId' })
  declare transfer: BelongsTo<typeof LedgerTransfer>

  @belongsTo(() => LedgerAccount, { foreignKey: 'accountId' })
  declare account: BelongsTo<typeof LedgerAccount>
}
