import { DateTime } from 'luxon'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import User from '#identity/models/user'
import { GUARDIAN_ROLE } from '#identity/services/roles'

export const ADMINS_PER_PAGE = 50

export interface AdminFilters {
  /** Part of the username or the display name. */
  q?: string
  state?: 'active' | 'disabled' | 'locked'
}

/** Escapes LIKE wildcards so that a search for "wang_" means those characters. */
function likeLiteral(value: string): string {
  return value.replace(/[\\%_]/g, (character) => `\\${character}`)
}

/** One page of console accounts, by username, each with its grants loaded. */
export async function searchAdminAccounts(filters: AdminFilters, page = 1) {
  const query = User.query().orderBy('username').orderBy('id')
  const term = filters.q?.trim().toLowerCase()
  if (term) {
    const pattern = `%${likeLiteral(term)}%`
    query.where((match) => {
      match
        .whereRaw('lower(username) like ? escape ?', [pattern, '\\'])
        .orWhereRaw('lower(display_name) like ? escape ?', [pattern, '\\'])
    })
  }
  const now = DateTime.utc().toFormat(query.client.dialect.dateTimeFormat)
  if (filters.state === 'disabled') query.whereNotNull('disabled_at')
  if (filters.state === 'active') {
    query.whereNull('disabled_at').where((open) => {
      open.whereNull('locked_until').orWhere('locked_until', '<=', now)
    })
  }
  if (filters.state === 'locked') query.whereNull('disabled_at').where('locked_until', '>', now)
  return query.paginate(page, ADMINS_PER_PAGE)
}

/** The account with this public id, inside the transaction, locked for the change. */
export async function accountForChange(publicId: string, trx: TransactionClientContract) {
  return User.query({ client: trx }).where('public_id', publicId).forUpdate().first()
}

/**
 * Serializes every change that could remove a whole-school super admin, so
 * that two admins removing "the other one" at the same moment cannot both
 * succeed: the built-in role's row is the lock (PostgreSQL; SQLite runs one
 * writer at a time anyway).
 */
export async function lockGuardians(trx: TransactionClientContract) {
  await trx.from('roles').where('key', GUARDIAN_ROLE).where('built_in', true).forUpdate().first()
}

/**
 * How many enabled accounts hold the super admin role for the whole school,
 * leaving out one account (about to be disabled) or one grant (about to be
 * removed).
 */
export async function guardiansLeft(
  trx: TransactionClientContract,
  except: { userId?: number; grantId?: number } = {}
): Promise<number> {
  const query = trx
    .from('admin_grants')
    .join('roles', 'roles.id', 'admin_grants.role_id')
    .join('users', 'users.id', 'admin_grants.user_id')
    .where('roles.key', GUARDIAN_ROLE)
    .where('roles.built_in', true)
    .whereNull('admin_grants.org_unit_id')
    .whereNull('users.disabled_at')
  if (except.userId !== undefined) query.whereNot('users.id', except.userId)
  if (except.grantId !== undefined) query.whereNot('admin_grants.id', except.grantId)
  const row = await query.countDistinct('users.id as total').first()
  return Number(row?.total ?? 0)
}

/** Whether the account holds a whole-school super admin grant (other than `exceptGrantId`). */
export async function isGuardian(
  trx: TransactionClientContract,
  userId: number,
  exceptGrantId?: number
): Promise<boolean> {
  const query = trx
    .from('admin_grants')
    .join('roles', 'roles.id', 'admin_grants.role_id')
    .where('admin_grants.user_id', userId)
    .where('roles.key', GUARDIAN_ROLE)
    .where('roles.built_in', true)
    .whereNull('admin_grants.org_unit_id')
  if (exceptGrantId !== undefined) query.whereNot('admin_grants.id', exceptGrantId)
  return Boolean(await query.first())
}
