import db from '@adonisjs/lucid/services/db'
import Card from '#cards/models/card'
import CardEvent from '#cards/models/card_event'
import PhysicalCard from '#cards/models/physical_card'
import type { CardState } from '#cards/services/card_rules'
import { compactCardNo } from '#cards/services/card_numbers'

export const CARDS_PER_PAGE = 50

export interface CardFilters {
  /** A card number (spaces allowed), the start of a person number, or part of a name. */
  q?: string
  /** Public id of a card type. */
  type?: string
  state?: CardState
}

function likeLiteral(value: string): string {
  return value.replace(/[\\%_]/g, (character) => `\\${character}`)
}

/** One page of cards, newest first, each with its holder and type. */
export async function searchCards(filters: CardFilters, page = 1, perPage = CARDS_PER_PAGE) {
  const query = Card.query()
    .preload('person', (person) => person.preload('orgUnit'))
    .preload('cardType')
    .orderBy('id', 'desc')
  const term = filters.q?.trim()
  if (term) {
    const digits = compactCardNo(term)
    const literal = likeLiteral(term)
    query.where((match) => {
      if (/^\d{4,12}$/.test(digits)) match.orWhere('card_no', 'like', `${digits}%`)
      match.orWhereIn(
        'person_id',
        db
          .from('people')
          .select('id')
          .where((people) =>
            people
              .whereRaw('person_no like ? escape ?', [`${literal.toUpperCase()}%`, '\\'])
              .orWhereRaw('lower(name) like ? escape ?', [`%${literal.toLowerCase()}%`, '\\'])
          )
      )
    })
  }
  if (filters.type)
    query.whereIn(
      'card_type_id',
      db.from('card_types').select('id').where('public_id', filters.type)
    )
  if (filters.state) query.where('state', filters.state)
  return query.paginate(page, perPage)
}

/** A card with everything its page shows: holder, type, history and physical cards. */
export async function loadCardPage(publicId: string) {
  const card = await Card.query()
    .where('public_id', publicId)
    .preload('person', (person) => person.preload('orgUnit'))
    .preload('cardType')
    .preload('replacedBy')
    .preload('replaces')
    .first()
  if (!card) return null
  const events = await CardEvent.query()
    .where('card_id', card.id)
    .preload('relatedCard')
    .orderBy('id', 'desc')
    .limit(500)
  const physicalCards = await PhysicalCard.query().where('card_id', card.id).orderBy('id', 'desc')
  return { card, events, physicalCards }
}

/** A person's cards, live ones first, for the person page's panel. */
export async function cardsOfPerson(personId: number) {
  const cards = await Card.query()
    .where('person_id', personId)
    .preload('cardType')
    .orderBy('id', 'desc')
    .limit(100)
  const rank = (state: CardState) =>
    state === 'active' ? 0 : state === 'frozen' ? 1 : state === 'pending_activation' ? 2 : 3
  return cards.toSorted((a, b) => rank(a.state) - rank(b.state) || b.id - a.id)
}
