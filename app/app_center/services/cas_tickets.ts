import { createHash, randomBytes } from 'node:crypto'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import encryption from '@adonisjs/core/services/encryption'
import quadConfig from '#config/quad'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import Person from '#identity/models/person'
import { orgUnitLineage } from '#identity/services/org_tree'
import { decryptPii } from '#identity/services/pii'
import { personMaySignIn, sqlTime } from '#identity/services/portal_sessions'
import AppLaunch from '#app_center/models/app_launch'
import CampusApp from '#app_center/models/campus_app'
import CasTicket from '#app_center/models/cas_ticket'
import { casServiceMatches, MAX_URL_LENGTH } from '#app_center/services/app_rules'

/**
 * Quad's CAS server (CAS protocol 2.0 and 3.0): which registered app a
 * service URL belongs to, service tickets, and their validation. The CAS
 * user is the person's number (学工号), which is what campus systems that
 * speak CAS key their accounts on.
 */

/**
 * A service URL a client may present at all: an absolute http(s) URL with a
 * host, no credentials, no fragment, and nothing a browser or a URL parser
 * could read differently from a plain comparison (spaces, control
 * characters, backslashes).
 */
export function plausibleService(value: unknown): value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_URL_LENGTH) return false
  if ([...value].some((char) => char.charCodeAt(0) < 0x21 || char.charCodeAt(0) === 0x7f))
    return false
  if (/[\s\\#]/.test(value)) return false
  const url = URL.parse(value)
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) return false
  const authority = value.slice(url.protocol.length + 2).split(/[/?]/)[0]
  return Boolean(url.hostname) && !url.username && !url.password && !authority.includes('@')
}

/**
 * The enabled CAS app a service URL belongs to, or null. Exact
 * registrations win over patterns; among equals, the console's order.
 */
export async function findCasApp(service: unknown): Promise<CampusApp | null> {
  if (!plausibleService(service)) return null
  const apps = await CampusApp.query()
    .where('kind', 'cas')
    .where('enabled', true)
    .whereNotNull('cas_service')
    .orderBy('sort_order')
    .orderBy('id')
  const matching = apps.filter((app) => {
    try {
      return casServiceMatches(app.casServiceMatch ?? 'exact', app.casService!, service)
    } catch {
      return false
    }
  })
  return matching.find((app) => app.casServiceMatch === 'exact') ?? matching[0] ?? null
}

/** A new service ticket: "ST-" and 256 random bits. */
export function newServiceTicket(): string {
  return `ST-${randomBytes(32).toString('base64url')}`
}

export function ticketDigest(ticket: string): string {
  return createHash('sha256').update(ticket).digest('hex')
}

/** The service URL with the ticket added to its query. */
export function serviceWithTicket(service: string, ticket: string): string {
  return `${service}${service.includes('?') ? '&' : '?'}ticket=${encodeURIComponent(ticket)}`
}

/**
 * A CAS sign-in this soon after a counted launch of the same app by the same
 * person (from the service hall, or an earlier sign-in) is the same visit.
 */
const HALL_LAUNCH_WINDOW_SECONDS = 120

export interface IssueTicketInput {
  app: CampusApp
  service: string
  personId: number
  portalSessionId: number
  authenticatedAt: DateTime
  fromNewLogin: boolean
  actor: AuditActor
  now?: DateTime
}

/**
 * Hands out a service ticket for a person signed in to the portal: stores
 * its digest, counts a launch of the app (once per visit: not again within two
 * minutes of the last one) and records the sign-in, in one transaction. Returns the ticket, which exists only here.
 */
export async function issueServiceTicket(input: IssueTicketInput): Promise<string> {
  const now = input.now ?? DateTime.utc()
  const ticket = newServiceTicket()
  await db.transaction(async (trx) => {
    await CasTicket.create(
      {
        ticketHash: ticketDigest(ticket),
        ticketCiphertext: encryption.encrypt(ticket),
        appId: input.app.id,
        personId: input.personId,
        portalSessionId: input.portalSessionId,
        service: input.service,
        fromNewLogin: input.fromNewLogin,
        authenticatedAt: input.authenticatedAt,
        expiresAt: now.plus({ seconds: quadConfig.cas.ticketLifetimeSeconds }),
        consumedAt: null,
        createdAt: now,
      },
      { client: trx }
    )
    // A launch from the service hall (or an earlier ticket) a moment ago counted this visit.
    const launchedFromHall = await trx
      .from('app_launches')
      .where('app_id', input.app.id)
      .where('person_id', input.personId)
      .where('launched_at', '>=', sqlTime(now.minus({ seconds: HALL_LAUNCH_WINDOW_SECONDS }), trx))
      .first()
    if (!launchedFromHall) {
      await AppLaunch.create(
        { appId: input.app.id, personId: input.personId, launchedAt: now },
        { client: trx }
      )
    }
    await recordAudit(
      input.actor,
      {
        action: 'apps.cas_sign_in',
        subjectType: 'app',
        subjectId: input.app.publicId,
        meta: { service: input.service, renew: input.fromNewLogin },
      },
      trx
    )
  })
  return ticket
}

export type CasFailureCode =
  | 'INVALID_REQUEST'
  | 'INVALID_TICKET'
  | 'INVALID_SERVICE'
  | 'INTERNAL_ERROR'
  | 'UNAUTHORIZED_SERVICE_PROXY'

export interface CasFailure {
  code: CasFailureCode
  description: string
}

export type CasAttributes = Record<string, string | string[]>

export interface CasSuccess {
  user: string
  attributes: CasAttributes
}

const failure = (code: CasFailureCode, description: string) => fail(code, { description })

export interface ValidateInput {
  ticket: unknown
  service: unknown
  renew: boolean
}

/**
 * Validates a service ticket for a service. The ticket is spent by the
 * first attempt whatever its outcome (CAS 3.0 §3.1.1), so a ticket shown
 * with the wrong service cannot be tried again with the right one.
 */
export async function validateServiceTicket(
  input: ValidateInput,
  now = DateTime.utc()
): Promise<Result<CasSuccess & { ticket: CasTicket; app: CampusApp }, CasFailureCode>> {
  const { ticket, service } = input
  if (typeof ticket !== 'string' || !ticket || typeof service !== 'string' || !service) {
    return failure('INVALID_REQUEST', 'Both the service and ticket parameters are required.')
  }
  if (!ticket.startsWith('ST-') || ticket.length > 256) {
    return failure('INVALID_TICKET', `Ticket '${ticket.slice(0, 64)}' not recognized.`)
  }
  const row = await CasTicket.findBy('ticket_hash', ticketDigest(ticket))
  if (!row) return failure('INVALID_TICKET', `Ticket '${ticket}' not recognized.`)
  const client = db.connection()
  const changed = await client
    .from('cas_tickets')
    .where('id', row.id)
    .whereNull('consumed_at')
    .update({ consumed_at: sqlTime(now, client) })
  // A real ticket refused: a retry, a slow app, or someone else's copy. Each
  // is recorded against the app, for the person and the school to see.
  const refuse = async (code: CasFailureCode, reason: string, description: string) => {
    const app = await CampusApp.find(row.appId)
    await recordAudit(
      { type: 'system', name: 'CAS' },
      {
        action: 'apps.cas_validation_refused',
        subjectType: 'app',
        subjectId: app?.publicId ?? String(row.appId),
        meta: { reason, service: service.slice(0, 500), person: row.personId },
      }
    )
    return failure(code, description)
  }
  if (Number(Array.isArray(changed) ? changed[0] : changed) === 0) {
    return refuse('INVALID_TICKET', 'used', `Ticket '${ticket}' has already been used.`)
  }
  if (row.expiresAt <= now) {
    return refuse('INVALID_TICKET', 'expired', `Ticket '${ticket}' has expired.`)
  }
  if (row.service !== service) {
    return refuse(
      'INVALID_SERVICE',
      'other_service',
      `Ticket '${ticket}' was not issued for this service.`
    )
  }
  if (input.renew && !row.fromNewLogin) {
    return refuse(
      'INVALID_TICKET',
      'not_renewed',
      `Ticket '${ticket}' was not issued from a new sign-in.`
    )
  }
  const app = await CampusApp.find(row.appId)
  if (!app || !app.enabled || app.kind !== 'cas') {
    return refuse(
      'INVALID_SERVICE',
      'app_disabled',
      'The service is not a registered, enabled CAS app.'
    )
  }
  const person = await Person.find(row.personId)
  if (!person || !personMaySignIn(person)) {
    return refuse('INVALID_TICKET', 'person_inactive', `Ticket '${ticket}' is no longer valid.`)
  }
  return ok({
    user: person.personNo,
    attributes: await casAttributes(person, app, row),
    ticket: row,
    app,
  })
}

/**
 * What a CAS 3.0 app learns about the person: name, number, identity type,
 * org unit and its path, e-mail when the registry has one, and the CAS
 * authentication attributes. Phone numbers and the campus details follow
 * the app's allowed scopes (`phone`, `campus`).
 */
export async function casAttributes(
  person: Person,
  app: CampusApp,
  ticket: CasTicket
): Promise<CasAttributes> {
  await person.load('orgUnit')
  const lineage = await orgUnitLineage(person.orgUnit)
  const attributes: CasAttributes = {
    name: person.name,
    personNo: person.personNo,
    identityType: person.identityType,
    orgUnit: person.orgUnit.name,
    orgUnitPath: lineage.map((unit) => unit.name).join('/'),
  }
  if (person.email) attributes.email = person.email
  if (app.allowedScopes.includes('campus')) {
    attributes.personStatus = person.status
    attributes.orgUnitCode = person.orgUnit.code
    if (person.enrollmentYear !== null) attributes.enrollmentYear = String(person.enrollmentYear)
  }
  if (app.allowedScopes.includes('phone') && person.phoneCiphertext) {
    attributes.phone = decryptPii('phone', person.phoneCiphertext)
  }
  attributes.authenticationDate = ticket.authenticatedAt.toUTC().toISO()!
  attributes.isFromNewLogin = String(ticket.fromNewLogin)
  attributes.longTermAuthenticationRequestTokenUsed = 'false'
  return attributes
}

/**
 * Housekeeping: a ticket row is kept after validation only so that single
 * logout can name it, which needs its portal session to be running. Rows
 * whose session has ended, and rows older than the longest portal session,
 * go. Returns how many were deleted.
 */
export async function pruneCasTickets(now = DateTime.utc()): Promise<number> {
  const client = db.connection()
  const expired = sqlTime(now, client)
  const oldest = sqlTime(
    now.minus({ seconds: quadConfig.portal.rememberedLifetimeSeconds + 86_400 }),
    client
  )
  const ended = await client
    .from('cas_tickets')
    .where('expires_at', '<', expired)
    .whereIn(
      'portal_session_id',
      client.from('portal_sessions').whereNotNull('ended_at').select('id')
    )
    .delete()
  const old = await client.from('cas_tickets').where('created_at', '<', oldest).delete()
  return Number(ended) + Number(old)
}
