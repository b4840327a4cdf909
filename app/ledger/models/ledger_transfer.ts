import { DateTime } from 'luxon'
import { BaseModel, column, hasMany } from '@adonisjs/lucid/orm'
import type { HasMany } from '@adonisjs/lucid/types/relations'
import LedgerPosting from '#ledger/models/ledger_posting'
import { fenFromDb } from '#ledger/services/money'

function idOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value)
}

/** One immutable money movement. Only ever inserted, by PostTransfer. */
export default class LedgerTransfer extends BaseModel {
  static table = 'ledger_transfers'

  @column({ isPrimary: true, serializeAs: null, consume: Number })
  declare id: number

  @column()
  declare publicId: string

  @column()
  declare kind: string

  @column({ serializeAs: null })
  declare idempotencyKey: string

  @column({ serializeAs: null })
  declare requestHash: string

  @column({ consume: fenFromDb })
  declare amount: number

  @column({ serializeAs: null, consume: idOrNull })
  declare reversesTransferId: number | null

  @column({ serializeAs: null, consume: idOrNull })
  declare refersToTransferId: number | null

  @column()
  declare memo: string | null

  @column({
    consume: (value: string | null) => (value ? JSON.parse(value) : null),
    prepare: (value: unknown) =>
      value === null || value === undefined ? null : JSON.stringify(value),
  })
  declare metadata: Record<string, unknown> | null

  @column()
  declare actorType: string

  @column()
  declare actorId: string | null

  @column()
  declare actorName: string | null

  @column.dateTime()
  declare bookedAt: DateTime

  @hasMany(() => LedgerPosting, { foreignKey: 'transferId' })
  declare postings: HasMany<typeof LedgerPosting>
}
