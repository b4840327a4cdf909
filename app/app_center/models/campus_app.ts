import { DateTime } from 'luxon'
import { BaseModel, beforeCreate, belongsTo, column } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import { newPublicId } from '#core/services/ids'
import Audience from '#identity/models/audience'
import type {
  AppCategory,
  AppKind,
  CasServiceMatch,
  GrantType,
  IdTokenAlg,
  OidcScope,
  TokenAuthMethod,
} from '#app_center/services/app_rules'

/** Reads a JSON list column; anything unreadable is an empty list, never a crash. */
function readList<T extends string>(value: unknown): T[] {
  if (Array.isArray(value)) return value as T[]
  if (typeof value !== 'string') return []
  try {
    const parsed: unknown = JSON.parse(value)
    return Array.isArray(parsed) ? (parsed.filter((item) => typeof item === 'string') as T[]) : []
  } catch {
    return []
  }
}

const listColumn = {
  prepare: (value: string[]) => JSON.stringify(value ?? []),
  consume: (value: unknown) => readList(value),
}

const booleanColumn = { consume: (value: unknown) => Boolean(value) }

/**
 * A campus app in the app center: what the portal's service hall shows, who
 * may see and use it (an audience, or everyone), and, for an app that signs
 * people in through Quad, its OpenID Connect client or CAS service settings.
 * Write it through the SaveApp action, which validates every field.
 */
export default class CampusApp extends BaseModel {
  static table = 'apps'

  @column({ isPrimary: true, serializeAs: null })
  declare id: number

  @column()
  declare publicId: string

  @column()
  declare nameZh: string

  @column()
  declare nameEn: string | null

  @column()
  declare description: string | null

  /** Relative to the storage root's uploads/ folder. */
  @column({ serializeAs: null })
  declare iconPath: string | null

  @column()
  declare category: AppCategory

  @column()
  declare kind: AppKind

  @column()
  declare launchUrl: string | null

  @column(listColumn)
  declare redirectUris: string[]

  @column(listColumn)
  declare postLogoutRedirectUris: string[]

  @column()
  declare casService: string | null

  @column()
  declare casServiceMatch: CasServiceMatch | null

  @column({ serializeAs: null })
  declare audienceId: number | null

  @column(booleanColumn)
  declare partnerZone: boolean

  @column()
  declare sortOrder: number

  @column(booleanColumn)
  declare enabled: boolean

  /** School-owned: people are signed in without a consent screen. */
  @column(booleanColumn)
  declare firstParty: boolean

  @column()
  declare oidcClientId: string | null

  /** SHA-256 of the client secret; the secret itself is shown once. */
  @column({ serializeAs: null })
  declare clientSecretHash: string | null

  @column.dateTime()
  declare clientSecretRotatedAt: DateTime | null

  @column()
  declare tokenEndpointAuthMethod: TokenAuthMethod | null

  @column(booleanColumn)
  declare publicClient: boolean

  @column(listColumn)
  declare allowedScopes: OidcScope[]

  @column(listColumn)
  declare grantTypes: GrantType[]

  @column()
  declare idTokenAlg: IdTokenAlg

  @column({ serializeAs: null })
  declare createdBy: number | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime

  @belongsTo(() => Audience)
  declare audience: BelongsTo<typeof Audience>

  @beforeCreate()
  static assignPublicId(app: CampusApp) {
    app.publicId ??= newPublicId()
  }

  /** The name in a language, falling back to the Chinese name. */
  nameIn(locale: string): string {
    return locale.startsWith('en') && this.nameEn ? this.nameEn : this.nameZh
  }

  get isOidcClient(): boolean {
    return this.kind === 'oidc' && this.oidcClientId !== null
  }
}
