import OrgUnit from '#identity/models/org_unit'
import Person, { type IdentityType, type PersonStatus } from '#identity/models/person'
import { subtreeIds } from '#identity/services/org_tree'

export interface PeopleFilters {
  /** Part of the name, the start of the pinyin initials, or the start of the person number. */
  q?: string
  identityType?: IdentityType
  status?: PersonStatus
  /** Public id of an org unit: its people and those of every unit below it. */
  unit?: string
}

export const PEOPLE_PER_PAGE = 50

/** Escapes LIKE wildcards so that a search for "50%" means those characters. */
function likeLiteral(value: string): string {
  return value.replace(/[\\%_]/g, (character) => `\\${character}`)
}

/**
 * One page of the people registry matching the filters, ordered by person
 * number, each with its org unit. The same search works on SQLite and
 * PostgreSQL: person numbers are stored upper case and initials lower case,
 * so neither depends on the database's case rules.
 */
export async function searchPeople(filters: PeopleFilters, page = 1, perPage = PEOPLE_PER_PAGE) {
  const query = Person.query().preload('orgUnit').orderBy('person_no').orderBy('id')

  const term = filters.q?.trim()
  if (term) {
    const literal = likeLiteral(term)
    query.where((match) => {
      match
        .whereRaw('lower(name) like ? escape ?', [`%${literal.toLowerCase()}%`, '\\'])
        .orWhereRaw('person_no like ? escape ?', [`${literal.toUpperCase()}%`, '\\'])
      if (/^[A-Za-z]+$/.test(term)) {
        match.orWhereRaw('name_pinyin_initials like ? escape ?', [`${term.toLowerCase()}%`, '\\'])
      }
    })
  }
  if (filters.identityType) query.where('identity_type', filters.identityType)
  if (filters.status) query.where('status', filters.status)
  if (filters.unit) {
    const unit = await OrgUnit.findBy('public_id', filters.unit)
    if (unit) query.whereIn('org_unit_id', subtreeIds(unit))
    else query.whereRaw('1 = 0')
  }
  return query.paginate(page, perPage)
}
