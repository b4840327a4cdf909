import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { QueryClientContract, TransactionClientContract } from '@adonisjs/lucid/types/database'
import quadConfig from '#config/quad'
import type { AuditActor } from '#core/services/audit'
import type Person from '#identity/models/person'
import type { PersonStatus } from '#identity/models/person'
import PortalSession, {
  type PortalSessionEnd,
  type PortalSignInMethod,
} from '#identity/models/portal_session'
import { deviceLabel } from '#identity/services/portal_devices'
import { looksLikeSecret, newSecret, secretDigest } from '#identity/services/portal_secrets'

/**
 * The portal's single sign-on session: what a person's browser presents on
 * every portal page, and what OIDC and CAS will check before they hand a
 * campus app an identity. See docs/adr/0009-portal-sessions.md.
 */

/**
 * Suspended people and people who left cannot sign in. Graduates can: they
 * keep the portal as alumni.
 */
export const STATUSES_REFUSED_SIGN_IN: readonly PersonStatus[] = ['suspended', 'left']

export function personMaySignIn(person: Pick<Person, 'status'>): boolean {
  return !STATUSES_REFUSED_SIGN_IN.includes(person.status)
}

/** Activity refreshes last_seen_at at most this often, so that reads stay reads. */
export const LAST_SEEN_RESOLUTION_SECONDS = 60

/** The audit actor for something a signed-in person did. */
export function personActor(
  person: Pick<Person, 'publicId' | 'personNo'>,
  from: { ip?: string | null; userAgent?: string | null } = {}
): AuditActor {
  return {
    type: 'person',
    id: person.publicId,
    name: person.personNo,
    ip: from.ip ?? null,
    userAgent: from.userAgent ?? null,
  }
}

/** A time as the database compares it in a WHERE clause. */
export function sqlTime(time: DateTime, client: QueryClientContract = db.connection()): string {
  return time.toUTC().toFormat(client.dialect.dateTimeFormat)
}

export interface StartPortalSessionOptions {
  method: PortalSignInMethod
  secondFactorPassed: boolean
  /** "Remember this device": the long lifetime instead of the default one. */
  remember?: boolean
  ip?: string | null
  userAgent?: string | null
  trx?: TransactionClientContract
  now?: DateTime
}

export interface StartedPortalSession {
  session: PortalSession
  /** The cookie's value. It exists only here: the row keeps its digest. */
  secret: string
}

/** Starts a portal session for a person who has just proved who they are. */
export async function startPortalSession(
  person: Pick<Person, 'id'>,
  options: StartPortalSessionOptions
): Promise<StartedPortalSession> {
  const now = options.now ?? DateTime.utc()
  const settings = quadConfig.portal
  const remember = options.remember === true
  const secret = newSecret()
  const session = await PortalSession.create(
    {
      tokenHash: secretDigest(secret),
      personId: person.id,
      method: options.method,
      secondFactorPassed: options.secondFactorPassed,
      remembered: remember,
      idleTimeoutSeconds: remember
        ? settings.rememberedIdleTimeoutSeconds
        : settings.idleTimeoutSeconds,
      expiresAt: now.plus({
        seconds: remember ? settings.rememberedLifetimeSeconds : settings.lifetimeSeconds,
      }),
      lastSeenAt: now,
      ip: options.ip ?? null,
      userAgent: options.userAgent ? options.userAgent.slice(0, 255) : null,
      deviceLabel: deviceLabel(options.userAgent),
      createdAt: now,
    },
    { client: options.trx }
  )
  return { session, secret }
}

export type PortalSessionLookup =
  | { ok: true; session: PortalSession; person: Person }
  | { ok: false; reason: PortalSessionEnd | 'unknown' }

/**
 * Finds the session a cookie names and checks that it may still be used:
 * not ended, within its lifetime and idle timeout, and its person still
 * allowed to sign in. A session found past a limit is ended here, so that it
 * also disappears from the devices page. Refreshes last-seen once a minute.
 */
export async function resolvePortalSession(
  secret: string | null | undefined,
  now = DateTime.utc()
): Promise<PortalSessionLookup> {
  if (!looksLikeSecret(secret)) return { ok: false, reason: 'unknown' }
  const session = await PortalSession.query()
    .where('token_hash', secretDigest(secret))
    .preload('person')
    .first()
  if (!session) return { ok: false, reason: 'unknown' }
  const ending = session.endingAt(now)
  if (ending) {
    if (!session.endedAt) await closeSession(session.id, ending, now)
    return { ok: false, reason: ending }
  }
  if (!personMaySignIn(session.person)) {
    await closeSession(session.id, 'refused', now)
    return { ok: false, reason: 'refused' }
  }
  if (now.diff(session.lastSeenAt).as('seconds') >= LAST_SEEN_RESOLUTION_SECONDS) {
    session.lastSeenAt = now
    await session.save()
  }
  return { ok: true, session, person: session.person }
}

/** Marks one session ended unless it already is; true when this call ended it. */
async function closeSession(
  id: number,
  reason: PortalSessionEnd,
  now: DateTime,
  trx?: TransactionClientContract
): Promise<boolean> {
  const client = trx ?? db.connection()
  const changed = await client
    .from('portal_sessions')
    .where('id', id)
    .whereNull('ended_at')
    .update({ ended_at: sqlTime(now, client), end_reason: reason })
  return Number(Array.isArray(changed) ? changed[0] : changed) > 0
}

/**
 * Ends the session with this public id. True when it was running and is now
 * ended; false when there is no such session or it had already ended.
 */
export async function endPortalSession(
  publicId: string,
  reason: PortalSessionEnd = 'signed_out',
  trx?: TransactionClientContract
): Promise<boolean> {
  const session = await PortalSession.query({ client: trx }).where('public_id', publicId).first()
  if (!session) return false
  return closeSession(session.id, reason, DateTime.utc(), trx)
}

/** Ends every running session of a person except one (or all); returns how many. */
export async function endPersonPortalSessions(
  personId: number,
  reason: PortalSessionEnd,
  options: { exceptSessionId?: number; trx?: TransactionClientContract } = {}
): Promise<number> {
  const client = options.trx ?? db.connection()
  const query = client.from('portal_sessions').where('person_id', personId).whereNull('ended_at')
  if (options.exceptSessionId !== undefined) query.whereNot('id', options.exceptSessionId)
  const changed = await query.update({
    ended_at: sqlTime(DateTime.utc(), client),
    end_reason: reason,
  })
  return Number(Array.isArray(changed) ? changed[0] : changed)
}

/** The person's sessions that are still usable, newest activity first. */
export async function activePortalSessions(
  personId: number,
  now = DateTime.utc()
): Promise<PortalSession[]> {
  const rows = await PortalSession.query()
    .where('person_id', personId)
    .whereNull('ended_at')
    .orderBy('last_seen_at', 'desc')
    .orderBy('id', 'desc')
  return rows.filter((session) => session.endingAt(now) === null)
}
