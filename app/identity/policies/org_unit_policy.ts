import { BasePolicy } from '@adonisjs/bouncer'
import type User from '#identity/models/user'
import type OrgUnit from '#identity/models/org_unit'

type PlacedUnit = Pick<OrgUnit, 'path'>

/**
 * What an account may do with one org unit. Changing a unit needs org.write
 * on it; creating needs it on the parent (a top-level unit needs it for the
 * whole school); moving needs it on both the unit and its new parent, so
 * that nothing leaves or enters the account's part of the tree unseen.
 */
export default class OrgUnitPolicy extends BasePolicy {
  /** The unit's page, its place in the tree and its people. */
  view(user: User, unit: PlacedUnit) {
    return user.canOn('people.read', unit.path)
  }

  /** Add a unit below `parent`, or at the top of the tree when null. */
  createUnder(user: User, parent: PlacedUnit | null) {
    return parent ? user.canOn('org.write', parent.path) : user.canEverywhere('org.write')
  }

  /** Rename, disable or enable the unit. */
  change(user: User, unit: PlacedUnit) {
    return user.canOn('org.write', unit.path)
  }

  /** Move the unit, with its subtree, below `newParent`. */
  moveUnder(user: User, unit: PlacedUnit, newParent: PlacedUnit) {
    return user.canOn('org.write', unit.path) && user.canOn('org.write', newParent.path)
  }
}
