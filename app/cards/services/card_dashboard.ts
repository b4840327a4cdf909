import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import Card from '#cards/models/card'
import CardType from '#cards/models/card_type'
import { CARD_STATES, type CardState } from '#cards/services/card_rules'

export interface TypeCounts {
  typeId: number
  code: string
  issued: number
  states: Record<CardState, number>
}

/** Cards of each type: all ever issued, and how many are in each state now. */
export async function cardCountsByType(): Promise<{ type: CardType; counts: TypeCounts }[]> {
  const types = await CardType.query().orderBy('sort_order').orderBy('id')
  const rows = await db
    .from('cards')
    .select('card_type_id', 'state')
    .count('* as total')
    .groupBy('card_type_id', 'state')
  return types.map((type) => {
    const states = Object.fromEntries(CARD_STATES.map((state) => [state, 0])) as Record<
      CardState,
      number
    >
    let issued = 0
    for (const row of rows) {
      if (Number(row.card_type_id) !== type.id) continue
      const total = Number(row.total)
      states[row.state as CardState] = total
      issued += total
    }
    return { type, counts: { typeId: type.id, code: type.code, issued, states } }
  })
}

/** Cards activated on each of the last `days` days (school time zone), oldest first. */
export async function activationsPerDay(
  zone: string,
  days = 30,
  now = DateTime.utc()
): Promise<{ day: string; count: number }[]> {
  const today = now.setZone(zone).startOf('day')
  const starts = Array.from({ length: days + 1 }, (_, index) =>
    today.minus({ days: days - 1 - index })
  )
  const query = Card.query()
  const format = query.client.dialect.dateTimeFormat
  const bounds = starts.map((start) => start.toUTC().toFormat(format))
  query.where('activated_at', '>=', bounds[0]).where('activated_at', '<', bounds[days])
  for (let index = 0; index < days; index++) {
    query.select(
      db.raw(
        `sum(case when activated_at >= ? and activated_at < ? then 1 else 0 end) as d${index}`,
        [bounds[index], bounds[index + 1]]
      )
    )
  }
  const row = (await query.pojo<Record<string, unknown>>().first()) ?? {}
  return starts.slice(0, days).map((start, index) => ({
    day: start.toISODate()!,
    count: Number(row[`d${index}`] ?? 0),
  }))
}
