import { DateTime } from 'luxon'
import hash from '@adonisjs/core/services/hash'
import db from '@adonisjs/lucid/services/db'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import PaymentPin from '#merchants/models/payment_pin'

/**
 * The payment PIN (支付密码): six digits, hashed with the hash service, set
 * and changed in the portal. Five wrong tries lock it for fifteen minutes.
 */
export const PIN_PATTERN = /^\d{6}$/
export const PIN_MAX_FAILURES = 5
export const PIN_LOCK_MINUTES = 15

export type PinCheckError = 'pin_not_set' | 'pin_wrong' | 'pin_locked' | 'pin_invalid'

/** Six digits, not all the same and not a run (123456, 654321). */
export function acceptablePin(pin: unknown): pin is string {
  if (typeof pin !== 'string' || !PIN_PATTERN.test(pin)) return false
  if (/^(\d)\1{5}$/.test(pin)) return false
  if ('0123456789'.includes(pin) || '9876543210'.includes(pin)) return false
  return true
}

/** The person a PIN belongs to: the id for the row, the public id for the audit log. */
export interface PinHolder {
  id: number
  publicId: string
}

export async function hasPin(personId: number): Promise<boolean> {
  return (await PaymentPin.findBy('person_id', personId)) !== null
}

/** Sets the PIN, or changes it (the current PIN is then required and checked). */
export async function setPin(
  person: PinHolder,
  input: { pin: string; currentPin?: string | null },
  actor: AuditActor
): Promise<Result<void, PinCheckError | 'pin_weak'>> {
  if (!acceptablePin(input.pin)) return fail('pin_weak')
  const personId = person.id
  const existing = await PaymentPin.findBy('person_id', personId)
  if (existing) {
    const checked = await checkPin(person, input.currentPin ?? '', actor)
    if (!checked.ok) return checked
  }
  const pinHash = await hash.make(input.pin)
  await db.transaction(async (trx) => {
    const row = existing ?? new PaymentPin()
    row.useTransaction(trx)
    row.merge({ personId, pinHash, failedAttempts: 0, lockedUntil: null })
    await row.save()
    await recordAudit(
      actor,
      {
        action: existing ? 'merchants.pin_changed' : 'merchants.pin_set',
        subjectType: 'payment_pin',
        subjectId: person.publicId,
      },
      trx
    )
  })
  return ok(undefined)
}

/**
 * Checks a PIN. A wrong one counts; the fifth in a row locks the PIN for
 * fifteen minutes, during which even the right one is refused. The count
 * is changed with one UPDATE, so that tries at once all count.
 */
export async function checkPin(
  person: PinHolder,
  pin: unknown,
  actor: AuditActor
): Promise<Result<void, PinCheckError>> {
  const row = await PaymentPin.findBy('person_id', person.id)
  if (!row) return fail('pin_not_set')
  const now = DateTime.utc()
  if (row.lockedUntil && row.lockedUntil > now)
    return fail('pin_locked', { until: row.lockedUntil.toISO() })
  if (typeof pin !== 'string' || !PIN_PATTERN.test(pin)) {
    // A malformed PIN is as wrong as a wrong one.
  } else if (await hash.verify(row.pinHash, pin)) {
    if (row.failedAttempts > 0 || row.lockedUntil)
      await db
        .from('payment_pins')
        .where('id', row.id)
        .update({ failed_attempts: 0, locked_until: null })
    return ok(undefined)
  }
  const client = db.connection()
  const format = client.dialect.dateTimeFormat
  await db
    .from('payment_pins')
    .where('id', row.id)
    .update({
      // After a lock ran out, counting starts again.
      failed_attempts: row.lockedUntil ? 1 : db.raw('failed_attempts + 1'),
      locked_until: null,
      updated_at: now.toFormat(format),
    })
  const after = await db.from('payment_pins').where('id', row.id).select('failed_attempts').first()
  const failures = Number(after?.failed_attempts ?? 0)
  if (failures >= PIN_MAX_FAILURES) {
    const until = now.plus({ minutes: PIN_LOCK_MINUTES })
    await db
      .from('payment_pins')
      .where('id', row.id)
      .update({ locked_until: until.toFormat(format), failed_attempts: 0 })
    await recordAudit(actor, {
      action: 'merchants.pin_locked',
      subjectType: 'payment_pin',
      subjectId: person.publicId,
      outcome: 'failure',
    })
    return fail('pin_locked', { until: until.toISO() })
  }
  return fail('pin_wrong', { triesLeft: PIN_MAX_FAILURES - failures })
}
