import type { Gauge } from '#appliance/services/metrics'

/**
 * Figures read from the database at scrape time. Modules add theirs here
 * (the job queue depth comes from the worker module).
 */
type GaugeSource = () => Promise<Gauge[]>

const sources: GaugeSource[] = []

export function addGaugeSource(source: GaugeSource) {
  sources.push(source)
}

export async function operationalGauges(): Promise<Gauge[]> {
  const results = await Promise.all(sources.map((source) => source().catch(() => [])))
  return results.flat()
}
