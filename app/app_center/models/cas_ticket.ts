import type { DateTime } from 'luxon'
import { BaseModel, column } from '@adonisjs/lucid/orm'

const booleanColumn = { consume: (value: unknown) => Boolean(value) }

/**
 * A CAS service ticket (ST-…) handed to a campus app for one person and one
 * service URL. Only its digest identifies it; see
 * app/app_center/services/cas_tickets.ts.
 */
export default class CasTicket extends BaseModel {
  static table = 'cas_tickets'

  @column({ isPrimary: true })
  declare id: number

  @column({ serializeAs: null })
  declare ticketHash: string

  @column({ serializeAs: null })
  declare ticketCiphertext: string

  @column()
  declare appId: number

  @column()
  declare personId: number

  @column()
  declare portalSessionId: number

  @column()
  declare service: string

  @column(booleanColumn)
  declare fromNewLogin: boolean

  @column.dateTime()
  declare authenticatedAt: DateTime

  @column.dateTime()
  declare expiresAt: DateTime

  @column.dateTime()
  declare consumedAt: DateTime | null

  @column.dateTime()
  declare logoutSentAt: DateTime | null

  @column()
  declare logoutResult: string | null

  @column.dateTime()
  declare createdAt: DateTime
}
