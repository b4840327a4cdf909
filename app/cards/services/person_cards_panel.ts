import edge from 'edge.js'
import db from '@adonisjs/lucid/services/db'
import CardType from '#cards/models/card_type'
import { cardsOfPerson } from '#cards/services/card_directory'
import { isEligible } from '#cards/services/eligibility'
import { isLive } from '#cards/services/card_rules'
import { formatCardNo } from '#cards/services/card_numbers'
import { stateBadge } from '#cards/services/card_view'

/**
 * The cards panel of the person page (pages/cards/person_panel.edge). The
 * page loads it through this template global, so that the people
 * controller needs to know nothing about cards.
 */
export async function personCardsPanel(person: { id: number }, locale: string) {
  const cards = await cardsOfPerson(person.id)
  const held = new Set(cards.filter((card) => isLive(card.state)).map((card) => card.cardTypeId))
  const types = await CardType.query().where('enabled', true).orderBy('sort_order').orderBy('id')
  const issuable = []
  for (const type of types) {
    if (held.has(type.id)) continue
    if (await isEligible(type, person.id, db.connection()))
      issuable.push({
        value: type.publicId,
        label: type.nameIn(locale),
        temporary: type.isTemporary,
      })
  }
  return {
    cards: cards.map((card) => ({
      card,
      number: formatCardNo(card.cardNo),
      typeName: card.cardType.nameIn(locale),
      badge: stateBadge(card.state),
    })),
    issuable,
    needsWindow: issuable.some((option) => option.temporary),
  }
}

edge.global('personCardsPanel', personCardsPanel)
