/**
 * Where in the organization tree an account may act for one permission:
 * the whole school, or only the subtrees under some units (a college's
 * admin acts on that college and everything below it).
 *
 * Actions and services that select or change people or units take a scope
 * instead of an account, so that the console, the API and ace commands
 * share one meaning of "inside your part of the tree".
 */
export type OrgScope =
  | { kind: 'all' }
  | {
      kind: 'subtrees'
      /** The paths ("/1/4/") of the units at the top of each subtree. */
      paths: string[]
    }

export const WHOLE_SCHOOL: OrgScope = { kind: 'all' }

/** True when the unit with this path lies inside the scope. */
export function scopeIncludesPath(scope: OrgScope, unitPath: string): boolean {
  if (scope.kind === 'all') return true
  return scope.paths.some((top) => unitPath.startsWith(top))
}

/** True when the scope covers nothing at all (no grant for the permission). */
export function scopeIsEmpty(scope: OrgScope): boolean {
  return scope.kind === 'subtrees' && scope.paths.length === 0
}
