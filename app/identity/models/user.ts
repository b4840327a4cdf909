import { DateTime } from 'luxon'
import {
  afterCreate,
  afterFetch,
  afterFind,
  afterPaginate,
  BaseModel,
  beforeCreate,
  column,
} from '@adonisjs/lucid/orm'
import type { ModelPaginatorContract } from '@adonisjs/lucid/types/model'
import { compose } from '@adonisjs/core/helpers'
import hash from '@adonisjs/core/services/hash'
import { withAuthFinder } from '@adonisjs/auth/mixins/lucid'
import { newPublicId } from '#core/services/ids'
import { isBuiltInRole, type Permission } from '#core/services/permissions'
import { AdminAccess, loadAdminAccess } from '#identity/services/admin_access'
import { scopeIncludesPath } from '#identity/services/org_scope'
import { grantBuiltInRole } from '#identity/services/roles'

const AuthFinder = withAuthFinder(() => hash.use('scrypt'), {
  uids: ['username'],
  passwordColumnName: 'password',
})

/**
 * A console account. What it may do comes from its grants (roles held for
 * the whole school or for part of the organization tree), read whenever
 * accounts are loaded, so that `can()` answers without a query.
 */
export default class User extends compose(BaseModel, AuthFinder) {
  @column({ isPrimary: true, serializeAs: null })
  declare id: number

  @column()
  declare publicId: string

  @column()
  declare username: string

  @column()
  declare displayName: string

  @column()
  declare email: string | null

  @column({ serializeAs: null })
  declare password: string

  /**
   * The role the account was created with, shown beside its name. It grants
   * nothing by itself: permissions come from the account's grants.
   */
  @column()
  declare role: string

  @column()
  declare locale: 'zh-CN' | 'en' | null

  /** Encrypted with the app key; never serialized. */
  @column({ serializeAs: null })
  declare totpSecret: string | null

  @column.dateTime()
  declare totpConfirmedAt: DateTime | null

  /** The last TOTP step accepted, so that a code cannot be used twice. */
  @column({ serializeAs: null, consume: (value) => (value === null ? null : Number(value)) })
  declare totpLastStep: number | null

  @column({ serializeAs: null })
  declare failedLoginCount: number

  @column.dateTime()
  declare lockedUntil: DateTime | null

  @column.dateTime()
  declare lastLoginAt: DateTime | null

  @column()
  declare lastLoginIp: string | null

  @column.dateTime()
  declare disabledAt: DateTime | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime

  /** The grants read for this instance; see loadAccess(). */
  declare loadedAccess?: AdminAccess

  /**
   * Set by callers that give the new account its grants themselves (the
   * console's account form); otherwise a built-in role named in `role`
   * becomes a whole-school grant when the account is created.
   */
  declare grantsGivenByCaller?: boolean

  @beforeCreate()
  static assignPublicId(user: User) {
    user.publicId ??= newPublicId()
    user.failedLoginCount ??= 0
  }

  /**
   * Code that creates accounts with just a `role` (first-run setup, the demo
   * school, `appliance:setup`) gets what it asked for: a whole-school grant
   * of that built-in role, in the same transaction.
   */
  @afterCreate()
  static async grantCreationRole(user: User) {
    if (user.grantsGivenByCaller || !isBuiltInRole(user.role)) return
    await grantBuiltInRole(user.id, user.role, user.$trx)
    user.loadedAccess = undefined
  }

  @afterFind()
  static async loadGrants(user: User) {
    // An aggregate (`count('*')`) comes back as a User without an id.
    if (user.id === undefined) return
    await user.loadAccess()
  }

  @afterFetch()
  static async loadGrantsOfEach(users: User[]) {
    const access = await loadAdminAccess(
      users.map((user) => user.id).filter((id) => id !== undefined),
      users[0]?.$trx
    )
    for (const user of users) user.loadedAccess = access.get(user.id)
  }

  @afterPaginate()
  static async loadGrantsOfPage(paginator: ModelPaginatorContract<User>) {
    await User.loadGrantsOfEach(paginator.all())
  }

  /** The account's grants, read once for this instance (that is, once per request). */
  async loadAccess(): Promise<AdminAccess> {
    if (!this.loadedAccess) {
      const access = await loadAdminAccess([this.id], this.$trx)
      this.loadedAccess = access.get(this.id)
    }
    return this.loadedAccess!
  }

  /** Drops the grants read so far; the next check reads them again. */
  forgetAccess() {
    this.loadedAccess = undefined
  }

  /**
   * The grants, once loaded. Accounts found through the model load them;
   * one built by hand must call loadAccess() first.
   */
  get access(): AdminAccess {
    if (!this.loadedAccess)
      throw new Error("The account's grants were not loaded: call loadAccess()")
    return this.loadedAccess
  }

  /** True when the account is enabled and some grant gives the permission, anywhere. */
  can(permission: Permission): boolean {
    return this.disabledAt === null && this.access.has(permission)
  }

  /** True when the account is enabled and a whole-school grant gives the permission. */
  canEverywhere(permission: Permission): boolean {
    return this.disabledAt === null && this.access.everywhere(permission)
  }

  /** True when the account is enabled and the permission reaches the unit with this path. */
  canOn(permission: Permission, unitPath: string): boolean {
    return this.disabledAt === null && scopeIncludesPath(this.access.scopeFor(permission), unitPath)
  }

  /** The names of the roles the account holds, in the reader's language. */
  roleNames(locale: string): string {
    const names = this.loadedAccess?.roleNames(locale) ?? []
    return names.join(locale.startsWith('zh') ? '、' : ', ')
  }

  isLocked(now = DateTime.utc()): boolean {
    return this.lockedUntil !== null && this.lockedUntil > now
  }
}
