import { BasePolicy } from '@adonisjs/bouncer'
import type User from '#identity/models/user'
import type OrgUnit from '#identity/models/org_unit'

/** A person as the checks need it: the unit they belong to (its path). */
interface PlacedPerson {
  orgUnit: Pick<OrgUnit, 'path'>
}

/**
 * What an account may do with one person: it depends on where the person
 * sits in the organization tree and on where the account's grants reach.
 */
export default class PersonPolicy extends BasePolicy {
  /** The person's page, photo and history. */
  view(user: User, person: PlacedPerson) {
    return user.canOn('people.read', person.orgUnit.path)
  }

  /** Edit the person or change their status. */
  edit(user: User, person: PlacedPerson) {
    return user.canOn('people.write', person.orgUnit.path)
  }

  /** Show a phone or ID number in clear. */
  revealPii(user: User, person: PlacedPerson) {
    return (
      user.canOn('people.read', person.orgUnit.path) &&
      user.canOn('people.reveal_pii', person.orgUnit.path)
    )
  }

  /** Put a person (new or moved) into this unit. */
  placeIn(user: User, unit: Pick<OrgUnit, 'path'>) {
    return user.canOn('people.write', unit.path)
  }
}
