import { DateTime } from 'luxon'
import { BaseModel, column } from '@adonisjs/lucid/orm'

/** What a client may do; each route of /api/v1 asks for one. */
export const API_SCOPES = ['people:read', 'people:write', 'org:read', 'org:write'] as const

export type ApiScope = (typeof API_SCOPES)[number]

export function isApiScope(value: string): value is ApiScope {
  return (API_SCOPES as readonly string[]).includes(value)
}

/**
 * A school system (academic affairs, HR) allowed to call the integration
 * API. It presents `<clientId>.<secret>`; only the SHA-256 of the secret is
 * stored, so the secret is shown once, when the client is created.
 */
export default class ApiClient extends BaseModel {
  static table = 'api_clients'

  @column({ isPrimary: true, serializeAs: null })
  declare id: number

  @column()
  declare clientId: string

  @column()
  declare name: string

  @column({ serializeAs: null })
  declare secretHash: string

  /** Space-separated, e.g. "people:read people:write". */
  @column({
    prepare: (scopes: ApiScope[]) => scopes.join(' '),
    consume: (value: string) => value.split(' ').filter(isApiScope),
  })
  declare scopes: ApiScope[]

  @column({ consume: (value: unknown) => Boolean(value) })
  declare enabled: boolean

  @column.dateTime()
  declare lastUsedAt: DateTime | null

  @column({ serializeAs: null })
  declare createdBy: number | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime

  allows(scope: ApiScope): boolean {
    return this.enabled && this.scopes.includes(scope)
  }
}
