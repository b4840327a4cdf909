import { DateTime } from 'luxon'
import limiter from '@adonisjs/limiter/services/main'
import db from '@adonisjs/lucid/services/db'
import quadConfig from '#config/quad'
import { recordAudit, type AuditActor } from '#core/services/audit'
import type Person from '#identity/models/person'
import PortalCredential from '#identity/models/portal_credential'

/**
 * Portal sign-in failures are counted per sign-in name in the rate-limit
 * table, whether or not the name belongs to anyone: an unknown number locks
 * after the same five failures as a real one, so lockout reveals nothing.
 * The credential row mirrors the lock for the console's account page.
 */
function failures() {
  return limiter.use('database', {
    requests: quadConfig.lockout.maxFailures,
    duration: `${quadConfig.lockout.lockMinutes} mins`,
    blockDuration: `${quadConfig.lockout.lockMinutes} mins`,
  })
}

/** Keys never collide with the console's (login_failures_<username>). */
function failureKey(name: string) {
  return `portal_failures_${name.trim().toUpperCase().slice(0, 128)}`
}

export async function isPortalNameLocked(name: string): Promise<boolean> {
  return failures().isBlocked(failureKey(name))
}

export type FailedStep = 'password' | 'totp' | 'totp_replayed'

/**
 * Counts one failed step against the name and records it. Returns true when
 * this failure locked the name.
 */
export async function countPortalFailure(
  name: string,
  person: Person | null,
  actor: AuditActor,
  step: FailedStep
): Promise<boolean> {
  const response = await failures().increment(failureKey(name))
  const locked = response.remaining <= 0
  if (locked) await failures().block(failureKey(name), `${quadConfig.lockout.lockMinutes} mins`)
  await db.transaction(async (trx) => {
    const credential = person
      ? await PortalCredential.query({ client: trx }).where('person_id', person.id).first()
      : null
    if (credential) {
      credential.failedCount = (credential.failedCount ?? 0) + 1
      if (locked)
        credential.lockedUntil = DateTime.utc().plus({ minutes: quadConfig.lockout.lockMinutes })
      await credential.save()
    }
    await recordAudit(
      actor,
      {
        action: 'portal.sign_in_failed',
        subjectType: person ? 'person' : null,
        subjectId: person?.publicId ?? null,
        outcome: 'failure',
        meta: { name: name.slice(0, 64), step, locked },
      },
      trx
    )
  })
  return locked
}

/** Forgets the failures of a name after a successful sign-in or a password reset. */
export async function clearPortalFailures(name: string): Promise<void> {
  await failures().delete(failureKey(name))
}
