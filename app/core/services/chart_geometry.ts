/**
 * Geometry of the console's dashboard charts, as plain numbers: the Edge
 * component (resources/views/components/chart.edge) only draws what this
 * returns. Charts are server-rendered SVG rather than a charting library:
 * the appliance serves every asset itself, the CSP forbids inline scripts,
 * the pages work without JavaScript, and a few bars and lines do not justify
 * a dependency that must be kept patched for years.
 */

export type ChartType = 'bar' | 'line'

export interface ChartSeries {
  label: string
  /** One value per label; null (or a missing or non-finite value) is a gap. */
  values: readonly (number | null | undefined)[]
}

export interface ChartInput {
  type: ChartType
  series: readonly ChartSeries[]
  labels: readonly string[]
  /** Size of the SVG's coordinate system; it scales to the width of its container. */
  width?: number
  height?: number
  unit?: string
  /** Locale for number formatting, e.g. "zh-CN". */
  locale?: string
  /** Smallest room per x-axis label before labels are thinned out. */
  labelSpacing?: number
}

export interface Tick {
  value: number
  y: number
  label: string
}

export interface XLabel {
  x: number
  label: string
  /** False when labels are thinned out to keep them from overlapping. */
  visible: boolean
}

export interface Bar {
  x: number
  y: number
  width: number
  height: number
  value: number
  label: string
  seriesIndex: number
  /** Tooltip text, e.g. "11-28: 42 条". */
  title: string
}

export interface LinePoint {
  x: number
  y: number
  value: number
  label: string
  title: string
}

export interface Line {
  seriesIndex: number
  label: string
  /** SVG path data; a gap in the values starts a new sub-path. */
  path: string
  points: LinePoint[]
}

export interface ChartGeometry {
  type: ChartType
  width: number
  height: number
  plot: { left: number; top: number; right: number; bottom: number; width: number; height: number }
  /** y of the value 0. */
  baseline: number
  yTicks: Tick[]
  xLabels: XLabel[]
  bars: Bar[]
  lines: Line[]
  /** The table that stands in for the chart for screen readers: one row per label. */
  table: { label: string; values: string[] }[]
  series: { label: string; seriesIndex: number }[]
  /** The series' names as a list in the chart's locale ("A, B and C", "A、B和C"). */
  seriesList: string
  /** Smallest and largest value drawn, or null when there is nothing to draw. */
  min: number | null
  max: number | null
}

/** Rounds to hundredths: SVG needs no more, and the markup stays short. */
function round(value: number): number {
  return Math.round(value * 100) / 100
}

function finite(value: number | null | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null
}

/**
 * A "nice" axis: a step of 1, 2, 2.5 or 5 times a power of ten, with bounds
 * that are multiples of the step and always include zero. Integer data gets
 * integer steps (no "0.5 entries").
 */
export function niceScale(
  dataMin: number,
  dataMax: number,
  { targetTicks = 5, integer = false } = {}
): { min: number; max: number; step: number; ticks: number[] } {
  let low = Math.min(0, dataMin)
  let high = Math.max(0, dataMax)
  if (low === high) high = low + 1
  const raw = (high - low) / Math.max(1, targetTicks)
  const magnitude = 10 ** Math.floor(Math.log10(raw))
  const residual = raw / magnitude
  const multipliers = integer && magnitude < 10 ? [1, 2, 5, 10] : [1, 2, 2.5, 5, 10]
  let step = Number(
    (
      (multipliers.find((multiplier) => residual <= multiplier + 1e-9) ?? 10) * magnitude
    ).toPrecision(12)
  )
  if (integer) step = Math.max(1, Math.round(step))
  low = Math.floor(low / step + 1e-9) * step
  high = Math.ceil(high / step - 1e-9) * step
  const count = Math.round((high - low) / step)
  const ticks = Array.from({ length: count + 1 }, (_, index) =>
    Number((low + index * step).toPrecision(12))
  )
  return { min: ticks[0], max: ticks[ticks.length - 1], step, ticks }
}

/** Digits after the decimal point that a number needs (at most 6). */
function decimalsOf(value: number): number {
  const text = String(Number(value.toPrecision(12)))
  if (text.includes('e-')) return Math.min(6, Number(text.split('e-')[1]))
  return Math.min(6, text.split('.')[1]?.length ?? 0)
}

/** Lays out a bar or line chart. Pure: same input, same output, no DOM. */
export function chartGeometry(input: ChartInput): ChartGeometry {
  const width = input.width ?? 640
  const height = input.height ?? 220
  const labels = [...input.labels]
  const count = labels.length
  const series = input.series.map((entry, seriesIndex) => ({
    label: entry.label,
    seriesIndex,
    values: labels.map((_, index) => finite(entry.values[index])),
  }))
  const present = series.flatMap((entry) => entry.values.filter((value) => value !== null))
  const dataMin = present.length ? Math.min(...present) : 0
  const dataMax = present.length ? Math.max(...present) : 0
  const integer = present.every((value) => Number.isInteger(value))
  const scale = niceScale(dataMin, dataMax, { targetTicks: height < 160 ? 3 : 5, integer })

  // Values keep up to two decimals of their own, or as many as the axis step shows.
  const decimals = Math.max(
    decimalsOf(scale.step),
    Math.min(2, Math.max(0, ...present.map(decimalsOf)))
  )
  const tickFormat = new Intl.NumberFormat(input.locale ?? 'en', {
    maximumFractionDigits: decimalsOf(scale.step),
  })
  const valueFormat = new Intl.NumberFormat(input.locale ?? 'en', {
    maximumFractionDigits: decimals,
  })
  const withUnit = (value: number) =>
    input.unit ? `${valueFormat.format(value)} ${input.unit}` : valueFormat.format(value)

  const tickLabels = scale.ticks.map((value) => tickFormat.format(value))
  // Room for the longest tick label at the 11px axis font (about 7px a character).
  const left = Math.max(28, Math.max(...tickLabels.map((label) => label.length)) * 7 + 12)
  const plot = { left, top: 10, right: width - 12, bottom: height - 24, width: 0, height: 0 }
  plot.width = plot.right - plot.left
  plot.height = plot.bottom - plot.top

  const y = (value: number) =>
    plot.bottom - ((value - scale.min) / (scale.max - scale.min)) * plot.height
  const baseline = round(y(0))
  const band = count ? plot.width / count : plot.width
  const centre = (index: number) => plot.left + band * (index + 0.5)
  const title = (label: string, seriesLabel: string, value: number) =>
    series.length > 1
      ? `${label} · ${seriesLabel}: ${withUnit(value)}`
      : `${label}: ${withUnit(value)}`

  const bars: Bar[] = []
  const lines: Line[] = []
  if (input.type === 'bar') {
    const group = band * 0.7
    const barWidth = series.length ? group / series.length : group
    for (const entry of series) {
      entry.values.forEach((value, index) => {
        if (value === null) return
        const top = y(Math.max(0, value))
        const bottom = y(Math.min(0, value))
        // A non-zero value never vanishes: it gets at least one unit of height.
        const barHeight = value === 0 ? 0 : Math.max(1, bottom - top)
        bars.push({
          x: round(plot.left + band * index + (band - group) / 2 + entry.seriesIndex * barWidth),
          y: round(value > 0 ? bottom - barHeight : top),
          width: round(Math.max(1, barWidth - (series.length > 1 ? 1 : 0))),
          height: round(barHeight),
          value,
          label: labels[index],
          seriesIndex: entry.seriesIndex,
          title: title(labels[index], entry.label, value),
        })
      })
    }
  } else {
    for (const entry of series) {
      const points: LinePoint[] = []
      let path = ''
      let drawing = false
      entry.values.forEach((value, index) => {
        if (value === null) {
          drawing = false
          return
        }
        const point = {
          x: round(centre(index)),
          y: round(y(value)),
          value,
          label: labels[index],
          title: title(labels[index], entry.label, value),
        }
        points.push(point)
        path += `${path ? ' ' : ''}${drawing ? 'L' : 'M'}${point.x} ${point.y}`
        drawing = true
      })
      lines.push({ seriesIndex: entry.seriesIndex, label: entry.label, path, points })
    }
  }

  const room = Math.max(1, Math.floor(plot.width / (input.labelSpacing ?? 56)))
  const every = Math.max(1, Math.ceil(count / room))
  return {
    type: input.type,
    width,
    height,
    plot,
    baseline,
    yTicks: scale.ticks.map((value, index) => ({
      value,
      y: round(y(value)),
      label: tickLabels[index],
    })),
    xLabels: labels.map((label, index) => ({
      x: round(centre(index)),
      label,
      visible: index % every === 0,
    })),
    bars,
    lines,
    table: labels.map((label, index) => ({
      label,
      values: series.map((entry) => {
        const value = entry.values[index]
        return value === null ? '—' : withUnit(value)
      }),
    })),
    series: series.map(({ label, seriesIndex }) => ({ label, seriesIndex })),
    seriesList: new Intl.ListFormat(input.locale ?? 'en', { type: 'conjunction' }).format(
      series.map((entry) => entry.label)
    ),
    min: present.length ? dataMin : null,
    max: present.length ? dataMax : null,
  }
}
