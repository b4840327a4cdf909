/**
 * Process-local Prometheus metrics. Each web process exposes its own figures;
 * Prometheus sums them across processes and boxes.
 */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

interface Histogram {
  counts: number[]
  sum: number
  count: number
}

const httpHistograms = new Map<string, Histogram>()

function labelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

/** Records one HTTP request. The route pattern, not the URL, keeps label sets small. */
export function observeHttpRequest(method: string, route: string, status: number, seconds: number) {
  const key = JSON.stringify([method, route, String(status)])
  let histogram = httpHistograms.get(key)
  if (!histogram) {
    histogram = { counts: BUCKETS.map(() => 0), sum: 0, count: 0 }
    httpHistograms.set(key, histogram)
  }
  for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]) histogram.counts[i]++
  histogram.sum += seconds
  histogram.count++
}

export interface Gauge {
  name: string
  help: string
  type: 'gauge' | 'counter'
  samples: { labels?: Record<string, string>; value: number }[]
}

function labels(pairs: Record<string, string>): string {
  const entries = Object.entries(pairs)
  if (entries.length === 0) return ''
  return `{${entries.map(([k, v]) => `${k}="${labelValue(v)}"`).join(',')}}`
}

/** Renders the HTTP histogram, process figures and the given gauges as Prometheus text. */
export function renderMetrics(extra: Gauge[]): string {
  const lines: string[] = []
  lines.push('# HELP quad_http_request_duration_seconds HTTP request latency.')
  lines.push('# TYPE quad_http_request_duration_seconds histogram')
  for (const [key, histogram] of httpHistograms) {
    const [method, route, status] = JSON.parse(key) as string[]
    const base = { method, route, status }
    BUCKETS.forEach((bucket, i) => {
      lines.push(
        `quad_http_request_duration_seconds_bucket${labels({ ...base, le: String(bucket) })} ${histogram.counts[i]}`
      )
    })
    lines.push(
      `quad_http_request_duration_seconds_bucket${labels({ ...base, le: '+Inf' })} ${histogram.count}`
    )
    lines.push(`quad_http_request_duration_seconds_sum${labels(base)} ${histogram.sum}`)
    lines.push(`quad_http_request_duration_seconds_count${labels(base)} ${histogram.count}`)
  }
  const memory = process.memoryUsage()
  const cpu = process.cpuUsage()
  const processGauges: Gauge[] = [
    {
      name: 'process_resident_memory_bytes',
      help: 'Resident memory size in bytes.',
      type: 'gauge',
      samples: [{ value: memory.rss }],
    },
    {
      name: 'nodejs_heap_used_bytes',
      help: 'V8 heap in use in bytes.',
      type: 'gauge',
      samples: [{ value: memory.heapUsed }],
    },
    {
      name: 'process_cpu_seconds_total',
      help: 'User and system CPU time in seconds.',
      type: 'counter',
      samples: [{ value: (cpu.user + cpu.system) / 1e6 }],
    },
    {
      name: 'process_start_time_seconds',
      help: 'Start time of the process since the Unix epoch in seconds.',
      type: 'gauge',
      samples: [{ value: Math.round(Date.now() / 1000 - process.uptime()) }],
    },
  ]
  for (const gauge of [...processGauges, ...extra]) {
    lines.push(`# HELP ${gauge.name} ${gauge.help}`)
    lines.push(`# TYPE ${gauge.name} ${gauge.type}`)
    for (const sample of gauge.samples)
      lines.push(`${gauge.name}${labels(sample.labels ?? {})} ${sample.value}`)
  }
  return lines.join('\n') + '\n'
}
