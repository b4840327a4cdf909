import type { Permission } from '#core/services/permissions'

/**
 * The console's navigation. Each module adds its entries from its routes
 * file; the layout shows the ones the signed-in user is permitted to open.
 */
export interface NavEntry {
  /** Translation key of the label, e.g. "core.nav.audit". */
  label: string
  href: string
  /** Name of an icon in resources/views/components/icon.edge. */
  icon: string
  permission: Permission
  /** Lower comes first. */
  order: number
}

const entries: NavEntry[] = []

export function addNavEntry(entry: NavEntry) {
  if (!entries.some((existing) => existing.href === entry.href)) entries.push(entry)
  entries.sort((a, b) => a.order - b.order)
}

export function navEntries(): readonly NavEntry[] {
  return entries
}
