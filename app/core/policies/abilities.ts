import { Bouncer } from '@adonisjs/bouncer'
import type User from '#identity/models/user'
import type { Permission } from '#core/services/permissions'

/**
 * The abilities every console check goes through. An account's grants give
 * each permission for the whole school or for some subtrees of the
 * organization tree; module policies (app/<module>/policies) build on these
 * and views use them to hide what the account may not open.
 */

/** May the account use the permission at all, somewhere? */
export const permit = Bouncer.ability((user: User, permission: Permission) => user.can(permission))

/** May the account use the permission for the whole school? */
export const permitEverywhere = Bouncer.ability((user: User, permission: Permission) =>
  user.canEverywhere(permission)
)

/**
 * May the account use the permission on this org unit (and so on the
 * people in it)? No unit means the top of the tree: the whole school.
 */
export const permitOn = Bouncer.ability(
  (user: User, permission: Permission, unit: { path: string } | null) =>
    unit ? user.canOn(permission, unit.path) : user.canEverywhere(permission)
)
