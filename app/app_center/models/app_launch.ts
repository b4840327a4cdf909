import { DateTime } from 'luxon'
import { BaseModel, column } from '@adonisjs/lucid/orm'

/** One launch of an app from the service hall, for the counts and charts. */
export default class AppLaunch extends BaseModel {
  static table = 'app_launches'

  @column({ isPrimary: true, serializeAs: null })
  declare id: number

  @column({ serializeAs: null })
  declare appId: number

  @column({ serializeAs: null })
  declare personId: number

  @column.dateTime()
  declare launchedAt: DateTime
}
