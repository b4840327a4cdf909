import type Terminal from '#terminals/models/terminal'

/**
 * Extra sections of GET /t/v1/sync, one per module (access rules, price
 * lists…). A module registers its section from its gateway_routes.ts:
 *
 *     registerSyncSection('access_rules', async (terminal, query) => ({ version: 3, rules: [] }))
 *
 * The section's value appears under its name in the sync answer. `query`
 * holds the request's query parameters (e.g. access_rules_since).
 */
export type SyncSection = (terminal: Terminal, query: URLSearchParams) => Promise<unknown>

const sections = new Map<string, { kinds: readonly string[] | null; load: SyncSection }>()

export function registerSyncSection(
  name: string,
  load: SyncSection,
  options: { kinds?: readonly Terminal['kind'][] } = {}
) {
  if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`Bad sync section name: ${name}`)
  sections.set(name, { kinds: options.kinds ?? null, load })
}

export async function loadSyncSections(
  terminal: Terminal,
  query: URLSearchParams
): Promise<Record<string, unknown>> {
  const result: Record<string, unknown> = {}
  for (const [name, section] of sections) {
    if (section.kinds && !section.kinds.includes(terminal.kind)) continue
    result[name] = await section.load(terminal, query)
  }
  return result
}
