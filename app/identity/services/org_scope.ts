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

/**
 * A scope over the subtrees under these paths, without repeats and without
 * a path that lies inside another one (a grant at a college and another at
 * one of its classes reach no further than the college alone).
 */
export function subtreesScope(paths: Iterable<string>): OrgScope {
  const sorted = [...new Set(paths)].sort((a, b) => a.length - b.length || a.localeCompare(b))
  const tops: string[] = []
  for (const path of sorted) {
    if (!tops.some((top) => path.startsWith(top))) tops.push(path)
  }
  return { kind: 'subtrees', paths: tops }
}

/** The scope that covers nothing: an account without the permission anywhere. */
export const NOWHERE: OrgScope = { kind: 'subtrees', paths: [] }

/**
 * The nodes of the organization tree at the top of the scope, each with
 * everything below it: what an account sees of the tree. The whole school
 * gives the roots back unchanged.
 */
export function orgTreeInScope<Node extends { unit: { path: string }; children: Node[] }>(
  roots: Node[],
  scope: OrgScope
): Node[] {
  if (scope.kind === 'all') return roots
  const tops: Node[] = []
  const visit = (node: Node) => {
    if (scopeIncludesPath(scope, node.unit.path)) tops.push(node)
    else node.children.forEach(visit)
  }
  roots.forEach(visit)
  return tops
}

/**
 * Where both scopes reach: what an account may do that needs two
 * permissions at once (reading people and revealing their personal data).
 */
export function intersectScopes(a: OrgScope, b: OrgScope): OrgScope {
  if (a.kind === 'all') return b
  if (b.kind === 'all') return a
  return subtreesScope([
    ...a.paths.filter((path) => scopeIncludesPath(b, path)),
    ...b.paths.filter((path) => scopeIncludesPath(a, path)),
  ])
}
