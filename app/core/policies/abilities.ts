import { Bouncer } from '@adonisjs/bouncer'
import type User from '#identity/models/user'
import type { Permission } from '#core/services/permissions'

/**
 * The one ability every console check goes through: does the user's role
 * grant this permission? Module policies build on it; views use it to hide
 * what the user may not open.
 */
export const permit = Bouncer.ability((user: User, permission: Permission) => user.can(permission))
