import { BasePolicy } from '@adonisjs/bouncer'
import type User from '#identity/models/user'
import type { Permission } from '#core/services/permissions'
import type { OrgScope } from '#identity/services/org_scope'

/**
 * Who may open an import (its row errors name people and units): an account
 * whose reach for the import's permission covers all of the part of the
 * tree the import was uploaded for. A whole-school import is for
 * whole-school accounts only.
 */
export default class ImportPolicy extends BasePolicy {
  open(user: User, permission: Permission, scope: OrgScope | null) {
    if (scope === null || scope.kind === 'all') return user.canEverywhere(permission)
    return user.can(permission) && scope.paths.every((path) => user.canOn(permission, path))
  }
}
