import test from 'ava'
import { chartGeometry, niceScale } from '#core/services/chart_geometry'

const days = (count: number) =>
  Array.from({ length: count }, (_, index) => `11-${String(index + 1).padStart(2, '0')}`)

test('picks round axis steps that cover the data and start at zero', (t) => {
  t.deepEqual(niceScale(0, 87, { integer: true }).ticks, [0, 20, 40, 60, 80, 100])
  t.deepEqual(niceScale(3, 9.2).ticks, [0, 2, 4, 6, 8, 10])
  t.deepEqual(niceScale(0, 0.3).ticks, [0, 0.1, 0.2, 0.3])
  t.deepEqual(niceScale(0, 1_234_567, { integer: true }).ticks.at(-1), 1_250_000)
  t.deepEqual(niceScale(-12, 40, { integer: true }).ticks, [-20, 0, 20, 40])
  for (const [low, high] of [
    [0, 1],
    [0, 7],
    [0, 99],
    [-5, 5],
    [0, 0.023],
    [0, 123_456],
  ]) {
    const scale = niceScale(low, high)
    t.true(scale.min <= Math.min(0, low) && scale.max >= high, `${low}..${high}`)
    t.true(scale.ticks.includes(0))
    t.true(scale.ticks.length >= 2 && scale.ticks.length <= 11)
  }
})

test('counts get whole-number ticks, and an all-zero chart still has an axis', (t) => {
  t.deepEqual(niceScale(0, 3, { integer: true }).ticks, [0, 1, 2, 3])
  t.deepEqual(niceScale(0, 0, { integer: true }).ticks, [0, 1])
  const chart = chartGeometry({
    type: 'bar',
    series: [{ label: 'n', values: [0, 0, 0] }],
    labels: days(3),
  })
  t.deepEqual(
    chart.yTicks.map((tick) => tick.label),
    ['0', '1']
  )
  t.true(chart.bars.every((bar) => bar.height === 0 && bar.y === chart.baseline))
})

test('bars stand on the zero line, inside the plot, with heights proportional to values', (t) => {
  const chart = chartGeometry({
    type: 'bar',
    series: [{ label: 'entries', values: [10, 40, 20, 0] }],
    labels: days(4),
    width: 400,
    height: 200,
  })
  const { plot } = chart
  t.is(chart.baseline, plot.bottom)
  t.is(chart.bars.length, 4)
  for (const bar of chart.bars) {
    t.true(bar.x >= plot.left && bar.x + bar.width <= plot.right)
    t.true(bar.y >= plot.top)
    t.is(Math.round((bar.y + bar.height) * 100) / 100, chart.baseline)
  }
  const [ten, forty, twenty] = chart.bars
  t.is(Math.round((forty.height / ten.height) * 100) / 100, 4)
  t.is(Math.round((twenty.height / ten.height) * 100) / 100, 2)
  // Left to right in label order, evenly spaced, never overlapping.
  for (let index = 1; index < chart.bars.length; index++) {
    t.true(chart.bars[index].x >= chart.bars[index - 1].x + chart.bars[index - 1].width)
  }
  const tops = chart.yTicks.map((tick) => tick.y)
  t.is(Math.min(...tops), plot.top, 'the top tick is the top of the plot')
})

test('negative values hang below the zero line; a tiny value stays visible', (t) => {
  const chart = chartGeometry({
    type: 'bar',
    series: [{ label: 'balance', values: [-30, 60, 0.01] }],
    labels: ['a', 'b', 'c'],
  })
  const [negative, positive, tiny] = chart.bars
  t.true(chart.baseline > chart.plot.top && chart.baseline < chart.plot.bottom)
  t.is(negative.y, chart.baseline)
  t.true(negative.height > 0)
  t.is(Math.round((positive.y + positive.height) * 100) / 100, chart.baseline)
  t.true(tiny.height >= 1)
  t.is(chart.min, -30)
  t.is(chart.max, 60)
})

test('bars of several series sit side by side within their label band', (t) => {
  const chart = chartGeometry({
    type: 'bar',
    series: [
      { label: 'paid', values: [5, 6] },
      { label: 'unpaid', values: [2, 3] },
      { label: 'void', values: [1, null] },
    ],
    labels: ['Mon', 'Tue'],
    width: 300,
  })
  t.is(chart.bars.length, 5, 'a null value draws nothing')
  const band = chart.plot.width / 2
  const monday = chart.bars.filter((bar) => bar.label === 'Mon').sort((a, b) => a.x - b.x)
  t.deepEqual(
    monday.map((bar) => bar.seriesIndex),
    [0, 1, 2]
  )
  t.true(monday[0].x >= chart.plot.left)
  t.true(monday[2].x + monday[2].width <= chart.plot.left + band)
  for (let index = 1; index < monday.length; index++) {
    t.true(monday[index].x >= monday[index - 1].x + monday[index - 1].width)
  }
  t.is(monday[1].title, 'Mon · unpaid: 2')
})

test('a line chart puts points at the label centres and breaks at gaps', (t) => {
  const labels = ['a', 'b', 'c', 'd', 'e']
  const line = chartGeometry({
    type: 'line',
    series: [{ label: 'x', values: [1, 2, null, 4, 5] }],
    labels,
  })
  const bar = chartGeometry({
    type: 'bar',
    series: [{ label: 'x', values: [1, 2, 3, 4, 5] }],
    labels,
  })
  t.is(line.bars.length, 0)
  const [series] = line.lines
  t.is(series.points.length, 4)
  // Two sub-paths: a–b, then d–e.
  t.is(series.path.match(/M/g)?.length, 2)
  t.regex(series.path, /^M[\d.]+ [\d.]+ L[\d.]+ [\d.]+ M[\d.]+ [\d.]+ L[\d.]+ [\d.]+$/)
  // Points line up with the x labels, which line up with bar centres.
  series.points.forEach((point) => {
    const label = line.xLabels.find((entry) => entry.label === point.label)!
    t.is(point.x, label.x)
    const barOf = bar.bars.find((entry) => entry.label === point.label)!
    t.is(Math.round((barOf.x + barOf.width / 2) * 100) / 100, point.x)
  })
  const higher = series.points.find((point) => point.value === 5)!
  const lower = series.points.find((point) => point.value === 1)!
  t.true(higher.y < lower.y, 'larger values are drawn higher')
})

test('thins out x labels that would overlap, but the data table keeps every value', (t) => {
  const labels = days(60)
  const chart = chartGeometry({
    type: 'bar',
    series: [{ label: 'entries', values: labels.map((_, index) => index) }],
    labels,
    width: 640,
  })
  const visible = chart.xLabels.filter((label) => label.visible)
  t.true(visible.length < 60 && visible.length >= 5)
  const gaps = visible.slice(1).map((label, index) => label.x - visible[index].x)
  t.true(Math.min(...gaps) >= 56 - 0.01)
  t.is(chart.table.length, 60)
  t.true(chart.xLabels[0].visible)
})

test('formats values with the locale and unit for tooltips and the table', (t) => {
  const chart = chartGeometry({
    type: 'bar',
    series: [{ label: '审计记录', values: [1234, null, 2.5, Number.NaN] }],
    labels: ['11-01', '11-02', '11-03', '11-04'],
    unit: '条',
    locale: 'zh-CN',
  })
  t.deepEqual(
    chart.table.map((row) => row.values[0]),
    ['1,234 条', '—', '2.5 条', '—']
  )
  t.is(chart.bars[0].title, '11-01: 1,234 条')
  t.is(chart.bars.length, 2, 'NaN is a gap, not a bar')
  t.is(chart.seriesList, '审计记录')
  const two = chartGeometry({
    type: 'line',
    series: [
      { label: 'A', values: [1] },
      { label: 'B', values: [2] },
    ],
    labels: ['x'],
    locale: 'en',
  })
  t.is(two.seriesList, 'A and B')
})

test('an empty chart has an axis and nothing to draw', (t) => {
  const chart = chartGeometry({ type: 'bar', series: [], labels: [] })
  t.deepEqual(chart.bars, [])
  t.deepEqual(chart.table, [])
  t.is(chart.min, null)
  t.is(chart.max, null)
  t.true(chart.yTicks.length >= 2)
  t.true(chart.plot.width > 0 && chart.plot.height > 0)
})

test('leaves room on the left for the longest tick label', (t) => {
  const small = chartGeometry({ type: 'bar', series: [{ label: 'n', values: [5] }], labels: ['a'] })
  const large = chartGeometry({
    type: 'bar',
    series: [{ label: 'n', values: [4_800_000] }],
    labels: ['a'],
  })
  t.true(large.plot.left > small.plot.left)
  t.true(large.plot.left >= '5,000,000'.length * 7)
})
