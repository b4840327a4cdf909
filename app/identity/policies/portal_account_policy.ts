import { Bouncer } from '@adonisjs/bouncer'
import type User from '#identity/models/user'
import type OrgUnit from '#identity/models/org_unit'

/**
 * Managing a person's portal account (their one-time password, their
 * sessions) needs the permission where the person sits in the organization
 * tree, and sight of the person: a college's admin looks after that
 * college's people.
 */
export const managePortalAccount = Bouncer.ability(
  (user: User, person: { orgUnit: Pick<OrgUnit, 'path'> }) =>
    user.canOn('people.read', person.orgUnit.path) &&
    user.canOn('portal_accounts.manage', person.orgUnit.path)
)
