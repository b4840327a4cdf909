import type Person from '#identity/models/person'

/**
 * The tiles of the portal's home page. The portal registers placeholders
 * for what later modules bring (campus code, balance, service hall,
 * notices); a module replaces one by registering a tile with the same id,
 * or adds its own, from its routes file, as console modules call
 * addNavEntry.
 */
export interface PortalTile {
  /** Stable id; registering the same id again replaces the tile. */
  id: string
  /** Translation key of the title, e.g. "portal.tiles.campus_code". */
  label: string
  /** Name of an icon in resources/views/components/icon.edge. */
  icon: string
  /** Where the tile leads; null while the feature is not available. */
  href: string | null
  /** Lower comes first. */
  order: number
  /** Wide tiles take a whole row (the campus code). */
  wide?: boolean
  /**
   * The line under the title for this person (a balance, an unread count),
   * as a translation key and its data; a placeholder's says "coming soon".
   */
  summary?: (person: Person) => Promise<TileSummary> | TileSummary
  /** Hides the tile from people it does not concern. */
  visibleTo?: (person: Person) => boolean
}

export interface TileSummary {
  key: string
  data?: Record<string, unknown>
}

export interface ShownTile {
  id: string
  label: string
  icon: string
  href: string | null
  wide: boolean
  summary: TileSummary | null
}

const tiles = new Map<string, PortalTile>()

export function addPortalTile(tile: PortalTile): void {
  tiles.set(tile.id, tile)
}

/** The tiles one person sees, in order, with their summaries worked out. */
export async function portalTilesFor(person: Person): Promise<ShownTile[]> {
  const visible = [...tiles.values()]
    .filter((tile) => !tile.visibleTo || tile.visibleTo(person))
    .sort((a, b) => a.order - b.order)
  return Promise.all(
    visible.map(async (tile) => ({
      id: tile.id,
      label: tile.label,
      icon: tile.icon,
      href: tile.href,
      wide: tile.wide === true,
      summary: tile.summary ? await tile.summary(person) : null,
    }))
  )
}
