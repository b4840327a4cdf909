import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import Person from '#identity/models/person'
import AccessZone from '#access/models/access_zone'
import AccessException from '#access/models/access_exception'
import type { ExceptionEffect } from '#access/services/access_decision'

export interface SaveExceptionInput {
  /** The person's person number. */
  personNo: string
  /** The zone's public id. */
  zone: string
  effect: ExceptionEffect
  /** When it starts (default now). */
  startsAt?: DateTime
  /** When it ends. */
  endsAt: DateTime
  note?: string | null
}

export type SaveExceptionError = 'person_unknown' | 'zone_unknown' | 'ends_before_start'

/**
 * Allows or denies one person at one zone (and the zones inside it) from
 * now or a given time until a time, whatever the groups say.
 */
export class SaveException {
  async handle(
    input: SaveExceptionInput,
    actor: AuditActor
  ): Promise<Result<AccessException, SaveExceptionError>> {
    const startsAt = (input.startsAt ?? DateTime.utc()).toUTC().set({ millisecond: 0 })
    const endsAt = input.endsAt.toUTC().set({ millisecond: 0 })
    if (!endsAt.isValid || endsAt <= startsAt || endsAt <= DateTime.utc()) {
      return fail('ends_before_start')
    }
    return db.transaction(async (trx) => {
      const person = await Person.query({ client: trx })
        .where('person_no', input.personNo.trim().toUpperCase())
        .first()
      if (!person) return fail('person_unknown')
      const zone = await AccessZone.query({ client: trx })
        .where('public_id', input.zone.toUpperCase())
        .first()
      if (!zone) return fail('zone_unknown')
      const exception = new AccessException()
      exception.useTransaction(trx)
      exception.merge({
        personId: person.id,
        zoneId: zone.id,
        effect: input.effect,
        startsAt,
        endsAt,
        note: input.note?.trim() || null,
        createdBy: (actor.name ?? actor.id ?? actor.type).slice(0, 100),
      })
      await exception.save()
      await recordAudit(
        actor,
        {
          action: 'access.exception_created',
          subjectType: 'access_exception',
          subjectId: exception.publicId,
          after: {
            person: person.publicId,
            zone: zone.publicId,
            effect: exception.effect,
            startsAt: startsAt.toISO(),
            endsAt: endsAt.toISO(),
            note: exception.note,
          },
        },
        trx
      )
      return ok(exception)
    })
  }
}
