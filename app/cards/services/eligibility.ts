import type { QueryClientContract } from '@adonisjs/lucid/types/database'
import type { DatabaseQueryBuilderContract } from '@adonisjs/lucid/types/querybuilder'
import Audience from '#identity/models/audience'
import { resolveAudience } from '#identity/services/audience_resolver'
import type CardType from '#cards/models/card_type'

/**
 * Who may hold a card of a type: people in an active status whose identity
 * type the card type lists (any, when it lists none), and who are members
 * of the type's audience when it has one. Graduates and leavers get cards
 * only through upgrade rules, never by eligibility.
 */
export interface Eligibility {
  /** A fresh query selecting people.id of every eligible person. */
  query(): DatabaseQueryBuilderContract
}

/**
 * Loads what a type's eligibility needs (its audience) once; the returned
 * object builds the query as often as a caller walks it. (A query builder is
 * itself awaitable, so it is never handed out from an async function.)
 */
export async function eligibilityOf(
  type: CardType,
  client: QueryClientContract,
  narrowTo: Audience | null = null
): Promise<Eligibility> {
  const audience =
    type.audienceId === null
      ? null
      : await Audience.query({ client }).where('id', type.audienceId).first()
  const missingAudience = type.audienceId !== null && !audience
  return {
    query() {
      const query = client.from('people').select('people.id').where('people.status', 'active')
      if (type.identityTypes.length > 0) query.whereIn('people.identity_type', type.identityTypes)
      // An audience that no longer exists must select fewer people, never more.
      if (missingAudience) query.whereRaw('1 = 0')
      if (audience) query.whereIn('people.id', resolveAudience(audience, client).idsQuery())
      if (narrowTo) query.whereIn('people.id', resolveAudience(narrowTo, client).idsQuery())
      return query
    },
  }
}

/** Whether one person (by internal id) may hold a card of the type. */
export async function isEligible(
  type: CardType,
  personId: number,
  client: QueryClientContract
): Promise<boolean> {
  const eligibility = await eligibilityOf(type, client)
  const row = await eligibility.query().where('people.id', personId).first()
  return row !== null && row !== undefined
}
