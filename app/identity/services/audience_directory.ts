import Audience from '#identity/models/audience'

export interface AudienceFilters {
  /** Part of the name. */
  q?: string
  /** Active (default) or archived audiences. */
  state?: 'active' | 'archived'
}

export const AUDIENCES_PER_PAGE = 50

/** One page of audiences, by name. */
export async function searchAudiences(
  filters: AudienceFilters,
  page = 1,
  perPage = AUDIENCES_PER_PAGE
) {
  const query = Audience.query().orderBy('name').orderBy('id')
  if (filters.state === 'archived') query.whereNotNull('archived_at')
  else query.whereNull('archived_at')
  const term = filters.q?.trim()
  if (term) {
    const literal = term.replace(/[\\%_]/g, (character) => `\\${character}`).toLowerCase()
    query.whereRaw('lower(name) like ? escape ?', [`%${literal}%`, '\\'])
  }
  return query.paginate(page, perPage)
}
