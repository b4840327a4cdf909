/**
 * What the data table needs to draw its pager, built from a Lucid paginator
 * and the request's query string (filters are kept on every page link).
 */
export interface PagerView {
  total: number
  page: number
  lastPage: number
  perPage: number
  firstItem: number
  lastItem: number
  links: { page: number; url: string; current: boolean }[]
  previousUrl: string | null
  nextUrl: string | null
}

interface PaginatorLike {
  total: number
  currentPage: number
  lastPage: number
  perPage: number
}

export function pagerView(
  paginator: PaginatorLike,
  path: string,
  query: Record<string, unknown>
): PagerView {
  const urlFor = (page: number) => {
    const params = new URLSearchParams()
    for (const [key, value] of Object.entries(query)) {
      if (key === 'page' || value === undefined || value === null || value === '') continue
      params.set(key, String(value))
    }
    params.set('page', String(page))
    return `${path}?${params.toString()}`
  }
  const page = paginator.currentPage
  const lastPage = Math.max(1, paginator.lastPage)
  const start = Math.max(1, Math.min(page - 3, lastPage - 6))
  const end = Math.min(lastPage, start + 6)
  const links = []
  for (let number = start; number <= end; number++) {
    links.push({ page: number, url: urlFor(number), current: number === page })
  }
  const total = Number(paginator.total)
  return {
    total,
    page,
    lastPage,
    perPage: paginator.perPage,
    firstItem: total === 0 ? 0 : (page - 1) * paginator.perPage + 1,
    lastItem: Math.min(total, page * paginator.perPage),
    links,
    previousUrl: page > 1 ? urlFor(page - 1) : null,
    nextUrl: page < lastPage ? urlFor(page + 1) : null,
  }
}
