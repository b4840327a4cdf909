/**
 * The terminal gateway end to end: `node ace terminals:serve` in its own
 * process, simulated terminals (the reference terminal's HTTP client) over
 * mutual TLS, the real database.
 *
 *   npm run bench:gateway [-- --terminals 8 --payers 200 --payments 3000 --concurrency 32
 *                           --offered 500 --seconds 10 --records 10000 --db sqlite|pg
 *                           --profile DIR]
 *
 * 1. Online code payments/s: `--payments` payments with `--concurrency` in flight.
 * 2. Latency at an offered load: one payment every 1/`--offered` s for `--seconds`
 *    (open loop: a slow answer does not delay the next request); p50, p99, max.
 * 3. Offline ingestion: `--records` offline payment records uploaded in batches
 *    of 500 by the terminals at once; records booked per second.
 *
 * `--payments 0 --seconds 0` runs the offline ingestion alone; `--profile DIR`
 * leaves a V8 CPU profile of the gateway process in DIR.
 *
 * Codes are made before each clock starts (one fresh code per payment).
 * Targets (issue 7): ≥ 1,500 online payments/s, p99 ≤ 50 ms at 500/s,
 * ≥ 5,000 offline records/s, on SQLite and PostgreSQL.
 */
import type { ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { option, ranOnEachDatabase } from './support/cli.js'

/** CPU time a process has used (user + system), in ms, from /proc; NaN where there is none. */
function processCpuMs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    // utime and stime are fields 14 and 15 of the whole line, in clock ticks (100 per second).
    return (Number(fields[11]) + Number(fields[12])) * 10
  } catch {
    return Number.NaN
  }
}

function percentile(sorted: number[], p: number) {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}

export default async function gatewayBench(args: string[]) {
  if (await ranOnEachDatabase('gateway', args)) return
  const terminalCount = Number(option(args, 'terminals', '8'))
  const payerCount = Number(option(args, 'payers', '200'))
  const payments = Number(option(args, 'payments', '3000'))
  const concurrency = Number(option(args, 'concurrency', '32'))
  const offered = Number(option(args, 'offered', '500'))
  const seconds = Number(option(args, 'seconds', '10'))
  const recordCount = Number(option(args, 'records', '10000'))

  const { bootTestApp } = await import('../tests/helpers/app.js')
  const quad = await bootTestApp({ http: false })
  let gateway: { child: ChildProcess; url: string } | null = null
  const clients: { close(): void }[] = []
  try {
    const { default: db } = await import('@adonisjs/lucid/services/db')
    const { givenSchool } = await import('../tests/helpers/fixtures.js')
    const { givenShop, givenPayer } = await import('../tests/merchants/given.js')
    const { codeOf, nowSeconds } = await import('../tests/cards/code_fixtures.js')
    const { givenTerminal, serveGatewayProcess } = await import('../tests/terminals/helpers.js')
    const { aceEnvironment } = await import('../tests/helpers/ace.js')
    const { savePaymentSettings } = await import('#merchants/services/payment_settings')
    const { bookState } = await import('../tests/ledger/given.js')
    const { SimulatedTerminal } = await import('#terminals/simulator/terminal')
    const { pkiPaths, ensureCertificateAuthority, ensureServerCertificate } =
      await import('#appliance/services/pki')
    const { prepareStorageFolders } = await import('#appliance/services/storage_root')
    await givenSchool()
    await savePaymentSettings({ codeMaxPerDay: 100_000_000, codeMaxPerPayment: 100_000 })
    prepareStorageFolders()
    ensureCertificateAuthority()
    ensureServerCertificate()

    const env: Record<string, string> = {}
    for (const [key, value] of Object.entries({ ...process.env, ...aceEnvironment(quad) }))
      if (value !== undefined) env[key] = value
    env.LOG_LEVEL = 'warn'
    // --profile DIR: a V8 CPU profile of the gateway, written when it stops.
    const profileDir = option(args, 'profile', '')
    if (profileDir) env.NODE_OPTIONS = `--cpu-prof --cpu-prof-dir=${profileDir}`
    gateway = await serveGatewayProcess(env)
    const caPem = readFileSync(pkiPaths.caCert(), 'utf8')

    const { shop } = await givenShop()
    const shopRow = await db.from('shops').where('public_id', shop.publicId).select('id').first()
    const terminals: InstanceType<typeof SimulatedTerminal>[] = []
    for (let index = 0; index < terminalCount; index++) {
      const { publicId, code } = await givenTerminal('pos', `Bench till ${index + 1}`)
      await db
        .from('terminals')
        .where('public_id', publicId)
        .update({ shop_id: Number(shopRow.id) })
      const terminal = new SimulatedTerminal({ baseUrl: gateway.url, caPem })
      await terminal.enroll(code)
      terminals.push(terminal)
      clients.push(terminal)
    }
    const payers: Awaited<ReturnType<typeof givenPayer>>[] = []
    for (let index = 0; index < payerCount; index++) payers.push(await givenPayer(1_000_000))

    let sequence = 0
    const makeCodes = async (count: number) => {
      const now = nowSeconds()
      const made: { text: string; cardNo: string; sequence: number; at: number }[] = []
      for (let index = 0; index < count; index++) {
        const payer = payers[index % payers.length]
        made.push({
          text: await codeOf(payer.device, now),
          cardNo: payer.card.cardNo,
          sequence: ++sequence,
          at: now,
        })
      }
      return made
    }
    let refused = 0
    const pay = async (index: number, code: { text: string; sequence: number }) => {
      const terminal = terminals[index % terminals.length]
      const started = performance.now()
      const answer = await terminal.client.send('POST', '/t/v1/payments', {
        code: code.text,
        amount: 1 + (code.sequence % 1500),
        sequence: code.sequence,
      })
      if (answer.status !== 200) {
        refused += 1
        if (refused <= 3) console.error('refused', answer.status, JSON.stringify(answer.body))
      }
      return performance.now() - started
    }

    // Warm-up: TLS sessions, the gateway's plans and key ring.
    const warm = await makeCodes(Math.min(400, payments))
    await Promise.all(warm.map((code, index) => pay(index, code)))

    // 1. Throughput, closed loop.
    const batch = await makeCodes(payments)
    let next = 0
    const gatewayCpuBefore = processCpuMs(gateway.child.pid)
    const benchCpuBefore = process.cpuUsage()
    const started = performance.now()
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < batch.length) {
          const index = next++
          await pay(index, batch[index])
        }
      })
    )
    const throughput = batch.length / ((performance.now() - started) / 1000)
    const gatewayCpu = (processCpuMs(gateway.child.pid) - gatewayCpuBefore) / batch.length
    const benchCpuUsed = process.cpuUsage(benchCpuBefore)
    const terminalsCpu = (benchCpuUsed.user + benchCpuUsed.system) / 1000 / batch.length

    // 2. Latency at an offered rate, open loop.
    const total = Math.round(offered * seconds)
    const paced = await makeCodes(total)
    const latencies: number[] = []
    const openStarted = performance.now()
    const inFlight: Promise<void>[] = []
    for (let index = 0; index < total; index++) {
      const due = openStarted + (index * 1000) / offered
      const wait = due - performance.now()
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait))
      inFlight.push(pay(index, paced[index]).then((ms) => void latencies.push(ms)))
    }
    await Promise.all(inFlight)
    const achieved = total / ((performance.now() - openStarted) / 1000)
    latencies.sort((a, b) => a - b)

    // 3. Offline ingestion: every terminal uploads its share, 500 records a request.
    const offlineCodes = await makeCodes(recordCount)
    const perTerminal = terminals.map(() => [] as any[])
    offlineCodes.forEach((code, index) => {
      perTerminal[index % terminals.length].push({
        sequence: code.sequence,
        type: 'payment',
        code: code.text,
        card_no: code.cardNo,
        amount: 1 + (code.sequence % 800),
        occurred_at: code.at * 1000,
      })
    })
    let booked = 0
    const gatewayCpuBeforeOffline = processCpuMs(gateway.child.pid)
    const benchCpuBeforeOffline = process.cpuUsage()
    const offlineStarted = performance.now()
    await Promise.all(
      terminals.map(async (terminal, index) => {
        const records = perTerminal[index]
        for (let start = 0; start < records.length; start += 500) {
          const answer = await terminal.client.call('POST', '/t/v1/offline', {
            records: records.slice(start, start + 500),
          })
          booked += answer.booked
        }
      })
    )
    const ingestion = recordCount / ((performance.now() - offlineStarted) / 1000)
    const gatewayCpuOffline =
      (processCpuMs(gateway.child.pid) - gatewayCpuBeforeOffline) / recordCount
    const benchCpuOffline = process.cpuUsage(benchCpuBeforeOffline)
    const terminalsCpuOffline = (benchCpuOffline.user + benchCpuOffline.system) / 1000 / recordCount

    const state = await bookState()
    const balanced =
      state.mismatched.length === 0 && state.unbalanced.length === 0 && state.postingsTotal === 0
    const rows: [string, string][] = [
      [`online payments/s, ${concurrency} in flight`, `${throughput.toFixed(0)} /s`],
      [
        '  CPU per online payment: gateway / simulated terminals',
        `${gatewayCpu.toFixed(2)} ms / ${terminalsCpu.toFixed(2)} ms`,
      ],
      [
        `latency at offered ${offered}/s (achieved ${achieved.toFixed(0)}/s)`,
        `p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${latencies.at(-1)?.toFixed(1)} ms`,
      ],
      [
        `offline records/s (batches of 500, ${terminalCount} terminals)`,
        `${ingestion.toFixed(0)} /s`,
      ],
      [
        '  CPU per offline record: gateway / simulated terminals',
        `${gatewayCpuOffline.toFixed(3)} ms / ${terminalsCpuOffline.toFixed(3)} ms`,
      ],
    ]
    console.log(
      `\nterminal gateway, ${quad.dialect} (${terminalCount} terminals over mTLS, ${payerCount} payers, one gateway process, Node ${process.version})`
    )
    const width = Math.max(...rows.map(([name]) => name.length))
    for (const [name, value] of rows) console.log(`  ${name.padEnd(width)}  ${value}`)
    console.log(
      `  refused: ${refused}; offline booked: ${booked} of ${recordCount}; books balanced: ${balanced ? 'yes' : 'NO'}`
    )
    console.log(
      `  targets: online ≥ 1500/s ${throughput >= 1500 ? 'met' : 'NOT met'}; p99 ≤ 50 ms ${percentile(latencies, 99) <= 50 ? 'met' : 'NOT met'}; offline ≥ 5000/s ${ingestion >= 5000 ? 'met' : 'NOT met'}`
    )
  } finally {
    for (const client of clients) client.close()
    gateway?.child.kill('SIGTERM')
    await quad.close()
  }
}
