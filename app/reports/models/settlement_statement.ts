import { DateTime } from 'luxon'
import { BaseModel, belongsTo, column } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import { fenFromDb } from '#ledger/services/money'
import Merchant from '#merchants/models/merchant'
import type { SplitLine } from '#reports/services/settlement'

export const STATEMENT_STATUSES = ['draft', 'confirmed', 'paid'] as const
export type StatementStatus = (typeof STATEMENT_STATUSES)[number]

function readSplit(value: unknown): SplitLine[] {
  try {
    const parsed = typeof value === 'string' ? JSON.parse(value) : value
    if (!Array.isArray(parsed)) return []
    return parsed.map((line) => ({
      party: String(line.party),
      basisPoints: Number(line.basisPoints),
      amount: fenFromDb(line.amount),
    }))
  } catch {
    return []
  }
}

/** One merchant's settlement statement for one day of the school's calendar. */
export default class SettlementStatement extends BaseModel {
  static table = 'settlement_statements'

  @column({ isPrimary: true, serializeAs: null, consume: Number })
  declare id: number

  @column()
  declare publicId: string

  @column({ serializeAs: null })
  declare merchantId: number

  @column()
  declare day: string

  @column()
  declare zone: string

  @column.dateTime()
  declare periodFrom: DateTime

  @column.dateTime()
  declare periodTo: DateTime

  @column({ consume: Number })
  declare paymentsCount: number

  @column({ consume: fenFromDb })
  declare paymentsAmount: number

  @column({ consume: Number })
  declare refundsCount: number

  @column({ consume: fenFromDb })
  declare refundsAmount: number

  @column({ consume: fenFromDb })
  declare net: number

  @column({ consume: Number })
  declare commissionBp: number

  @column({ consume: fenFromDb })
  declare commission: number

  @column({ consume: fenFromDb })
  declare payable: number

  @column({ prepare: (value: SplitLine[]) => JSON.stringify(value), consume: readSplit })
  declare split: SplitLine[]

  @column()
  declare status: StatementStatus

  @column.dateTime()
  declare generatedAt: DateTime

  @column.dateTime()
  declare confirmedAt: DateTime | null

  @column()
  declare confirmedBy: string | null

  @column({ serializeAs: null, consume: (value) => (value === null ? null : Number(value)) })
  declare payoutTransferId: number | null

  @column.dateTime()
  declare paidAt: DateTime | null

  @column()
  declare paidBy: string | null

  @column()
  declare payoutReference: string | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime

  @belongsTo(() => Merchant)
  declare merchant: BelongsTo<typeof Merchant>
}
