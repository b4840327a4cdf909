/**
 * CAS ticket validation speed over HTTP, on SQLite and on PostgreSQL: the
 * app boots with its HTTP server, tickets are issued beforehand as
 * /cas/login issues them, then /cas/p3/serviceValidate is called at a fixed
 * offered load (open loop: each request leaves at its scheduled time,
 * whether or not earlier ones have been answered, and its latency counts
 * from that time), and once more as fast as a few clients can go.
 *
 *   npm run bench cas [-- --rate 50 --seconds 10 --concurrency 4 --db sqlite|pg]
 */
import { option, ranOnEachDatabase } from './support/cli.js'

function percentile(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]
}

export default async function casBench(args: string[]) {
  if (await ranOnEachDatabase('cas', args)) return
  const rate = Number(option(args, 'rate', '50'))
  const seconds = Number(option(args, 'seconds', '10'))
  const concurrency = Number(option(args, 'concurrency', '4'))
  const dbName = option(args, 'db', 'sqlite')
  const offered = Math.round(rate * seconds)
  const closedCount = offered

  const { bootTestApp } = await import('../tests/helpers/app.js')
  const quad = await bootTestApp()
  try {
    const { givenSchool } = await import('../tests/helpers/fixtures.js')
    const { givenPerson } = await import('../tests/portal/fixtures.js')
    const { SaveApp } = await import('#app_center/actions/save_app')
    const { SYSTEM_ACTOR } = await import('#core/services/audit')
    const { startPortalSession, personActor } = await import('#identity/services/portal_sessions')
    const { issueServiceTicket } = await import('#app_center/services/cas_tickets')
    await givenSchool()
    const { person } = await givenPerson({ name: '压测人员' })
    const service = 'https://oa.school.test/cas/login'
    const saved = await new SaveApp().handle(
      { nameZh: '协同办公', category: 'office', kind: 'cas', casService: service },
      { mode: 'create' },
      SYSTEM_ACTOR
    )
    if (!saved.ok) throw new Error('app not saved')
    const app = saved.value.app
    const { session } = await startPortalSession(person, {
      method: 'password',
      secondFactorPassed: false,
    })

    const issue = async (count: number) => {
      const tickets: string[] = []
      for (let index = 0; index < count; index++) {
        tickets.push(
          await issueServiceTicket({
            app,
            service,
            personId: person.id,
            portalSessionId: session.id,
            authenticatedAt: session.createdAt,
            fromNewLogin: false,
            actor: personActor(person),
          })
        )
      }
      // Issuing takes longer than a ticket lives: give these an hour, so
      // that the run measures validation and not expiry.
      const { default: db } = await import('@adonisjs/lucid/services/db')
      const { sqlTime } = await import('#identity/services/portal_sessions')
      const { DateTime } = await import('luxon')
      await db
        .from('cas_tickets')
        .whereNull('consumed_at')
        .update({ expires_at: sqlTime(DateTime.utc().plus({ hours: 1 })) })
      return tickets
    }
    let failures = 0
    /** One validation; a refused ticket or a broken connection counts as a failure. */
    const validate = async (ticket: string) => {
      const query = new URLSearchParams({ ticket, service })
      try {
        const response = await fetch(`${quad.baseUrl}/cas/p3/serviceValidate?${query}`)
        const text = await response.text()
        if (!text.includes('<cas:authenticationSuccess>')) failures++
      } catch {
        failures++
      }
    }

    // Warm up the route, the views of the validator and the connection pool.
    for (const ticket of await issue(50)) await validate(ticket)
    failures = 0

    let started = performance.now()
    const openTickets = await issue(offered)
    const issueRate = offered / ((performance.now() - started) / 1000)

    const latencies: number[] = []
    started = performance.now()
    await Promise.all(
      openTickets.map(async (ticket, index) => {
        const due = started + (index * 1000) / rate
        const wait = due - performance.now()
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
        await validate(ticket)
        latencies.push(performance.now() - due)
      })
    )
    const openElapsed = (performance.now() - started) / 1000
    const openFailures = failures
    latencies.sort((a, b) => a - b)

    const closedTickets = await issue(closedCount)
    started = performance.now()
    let next = 0
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < closedTickets.length) await validate(closedTickets[next++])
      })
    )
    const closedRate = closedCount / ((performance.now() - started) / 1000)

    console.log(`\nCAS /cas/p3/serviceValidate over HTTP, ${dbName}, Node ${process.version}`)
    console.log(
      `  tickets issued (one transaction each, with launch and audit): ${issueRate.toFixed(0)}/s`
    )
    console.log(
      `  offered ${rate}/s for ${seconds}s: ${(offered / openElapsed).toFixed(0)}/s answered, ` +
        `latency p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, ` +
        `max ${latencies[latencies.length - 1].toFixed(1)} ms, ${openFailures} failed`
    )
    console.log(
      `  closed loop, ${concurrency} clients: ${closedRate.toFixed(0)} validations/s, ` +
        `${failures - openFailures} failed`
    )
  } finally {
    await quad.close()
  }
}
