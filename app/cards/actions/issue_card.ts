import { DateTime } from 'luxon'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import Person from '#identity/models/person'
import Card from '#cards/models/card'
import CardType from '#cards/models/card_type'
import { isEligible } from '#cards/services/eligibility'
import { insertCard } from '#cards/services/card_issuing'
import { recordCardEvents } from '#cards/services/card_history'
import { computeValidity, type ValidityError } from '#cards/services/validity'
import { schoolZone } from '#cards/services/school_zone'
import { inTransaction } from '#cards/services/transactions'

export interface IssueCardInput {
  person: { publicId: string } | { id: number }
  cardType: { publicId: string } | { code: string } | { id: number }
  /** Start and end of a temporary or visitor card. */
  window?: { from: DateTime; until: DateTime } | null
}

export type IssueCardError =
  | 'person_not_found'
  | 'type_not_found'
  | 'type_disabled'
  | 'not_eligible'
  | 'already_holds'
  | ValidityError

/**
 * Issues one card to one eligible person: pending activation, valid by the
 * type's rule, recorded in the card's history and the audit log. A person
 * who already holds a live card of the type gets no second one.
 */
export class IssueCard {
  async handle(
    input: IssueCardInput,
    actor: AuditActor,
    trx?: TransactionClientContract
  ): Promise<Result<Card, IssueCardError>> {
    const zone = await schoolZone()
    return inTransaction(trx, (client) => this.apply(client, input, actor, zone))
  }

  private async apply(
    trx: TransactionClientContract,
    input: IssueCardInput,
    actor: AuditActor,
    zone: string
  ): Promise<Result<Card, IssueCardError>> {
    const typeQuery = CardType.query({ client: trx })
    if ('id' in input.cardType) typeQuery.where('id', input.cardType.id)
    else if ('code' in input.cardType) typeQuery.where('code', input.cardType.code)
    else typeQuery.where('public_id', String(input.cardType.publicId).toUpperCase())
    const type = await typeQuery.first()
    if (!type) return fail('type_not_found')
    if (!type.enabled) return fail('type_disabled')

    const personQuery = Person.query({ client: trx })
    if ('id' in input.person) personQuery.where('id', input.person.id)
    else personQuery.where('public_id', String(input.person.publicId).toUpperCase())
    const person = await personQuery.first()
    if (!person) return fail('person_not_found')
    if (!(await isEligible(type, person.id, trx))) return fail('not_eligible')

    const now = DateTime.utc()
    const validity = computeValidity(type.validity, {
      now,
      zone,
      expectedGraduationDate: person.expectedGraduationDate,
      window: input.window ?? null,
    })
    if (!validity.ok) return validity

    const inserted = await insertCard(
      trx,
      { personId: person.id, cardTypeId: type.id, ...validity.value },
      now
    )
    if (!inserted) return fail('already_holds')
    await recordCardEvents(trx, actor, [
      { cardId: inserted.id, event: 'issued', to: 'pending_activation' },
    ])
    const card = await Card.query({ client: trx }).where('id', inserted.id).firstOrFail()
    await recordAudit(
      actor,
      {
        action: 'cards.issued',
        subjectType: 'card',
        subjectId: card.publicId,
        after: {
          cardNo: card.cardNo,
          type: type.code,
          personNo: person.personNo,
          state: card.state,
          validFrom: card.validFrom.toISO(),
          validUntil: card.validUntil?.toISO() ?? null,
        },
      },
      trx
    )
    return ok(card)
  }
}
