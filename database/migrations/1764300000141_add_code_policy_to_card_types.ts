import { BaseSchema } from '@adonisjs/lucid/schema'

/**
 * What each card type's campus codes may do (permission tags) and how much
 * they may pay while a terminal is offline, signed into every credential.
 * The built-in types get the school-wide defaults of docs/cards.md.
 */
const POLICIES: Record<string, object> = {
  student: { permissions: ['payment', 'access', 'sign_in'], offline: limits(5, 10_000, 3_000) },
  teacher: { permissions: ['payment', 'access', 'sign_in'], offline: limits(5, 20_000, 5_000) },
  staff: { permissions: ['payment', 'access', 'sign_in'], offline: limits(5, 20_000, 5_000) },
  alumni: { permissions: ['payment', 'access', 'sign_in'], offline: limits(0, 0, 0) },
  temporary: { permissions: ['payment', 'access', 'sign_in'], offline: limits(3, 5_000, 2_000) },
  visitor: { permissions: ['access', 'sign_in'], offline: limits(0, 0, 0) },
}

function limits(maxCountPerDay: number, maxAmountPerDayFen: number, maxSingleAmountFen: number) {
  return { maxCountPerDay, maxAmountPerDayFen, maxSingleAmountFen }
}

export default class extends BaseSchema {
  protected tableName = 'card_types'

  async up() {
    this.schema.alterTable(this.tableName, (table) => {
      table.text('code_policy').nullable()
    })
    this.defer(async (db) => {
      for (const [code, policy] of Object.entries(POLICIES)) {
        await db
          .from(this.tableName)
          .where('code', code)
          .update({ code_policy: JSON.stringify(policy) })
      }
    })
  }

  async down() {
    this.schema.alterTable(this.tableName, (table) => {
      table.dropColumn('code_policy')
    })
  }
}
