/**
 * Given-state builders for the ledger's tests. Import after the app has booted.
 */
import db from '@adonisjs/lucid/services/db'
import { insertOrgUnit } from '#identity/services/org_tree'
import Person from '#identity/models/person'
import type OrgUnit from '#identity/models/org_unit'
import type { AuditActor } from '#core/services/audit'

let unit: Promise<OrgUnit> | null = null
let counter = 0

/** The terminal-like actor of tests that post many transfers: not audited per transfer. */
export const TEST_TERMINAL: AuditActor = { type: 'terminal', id: 'T-TEST', name: 'test terminal' }

/** Given a person in a test org unit; numbers are unique within the test file. */
export async function givenPerson(name = '测试人员'): Promise<Person> {
  // One unit for the whole file, created once even when people are asked for at once.
  unit ??= db.transaction((trx) =>
    insertOrgUnit(trx, null, { kind: 'school', code: `LEDGER${process.pid}`, name: '账务测试学校' })
  )
  const { id: orgUnitId } = await unit
  counter += 1
  return Person.create({
    personNo: `L${process.pid}${String(counter).padStart(5, '0')}`,
    name: `${name}${counter}`,
    gender: 'unknown',
    identityType: 'undergraduate',
    status: 'active',
    orgUnitId,
    enrollmentYear: 2025,
    email: null,
  })
}

let keys = 0

/** A fresh idempotency key. */
export function newKey(prefix = 'test'): string {
  keys += 1
  return `${prefix}:${process.pid}:${Date.now()}:${keys}`
}

/** Rows of a raw SELECT, as either driver returns them. */
export async function selectRows(sql: string, bindings: unknown[] = []): Promise<any[]> {
  const result = await db.rawQuery(sql, bindings as any[])
  return Array.isArray(result) ? result : result.rows
}

/**
 * The book's invariants, read straight from the tables: accounts whose stored
 * balance differs from the sum of their postings, transfers whose postings do
 * not sum to zero, accounts below zero that may not be, and the two totals
 * (postings and stored balances) that a balanced book holds at zero.
 */
export async function bookState() {
  const mismatched = await selectRows(`
    SELECT a.public_id, a.balance, COALESCE(p.total, 0) AS total
    FROM ledger_accounts a
    LEFT JOIN (SELECT account_id, SUM(amount) AS total FROM ledger_postings GROUP BY account_id) p
      ON p.account_id = a.id
    WHERE a.balance <> COALESCE(p.total, 0)`)
  const [{ total: postingsTotal }] = await selectRows(
    'SELECT COALESCE(SUM(amount), 0) AS total FROM ledger_postings'
  )
  const [{ total: balancesTotal }] = await selectRows(
    'SELECT COALESCE(SUM(balance), 0) AS total FROM ledger_accounts'
  )
  const unbalanced = await selectRows(
    'SELECT transfer_id FROM ledger_postings GROUP BY transfer_id HAVING SUM(amount) <> 0'
  )
  const overdrawn = await selectRows(
    `
    SELECT public_id FROM ledger_accounts
    WHERE allow_negative = ? AND ((normal_side = 'credit' AND balance < 0)
      OR (normal_side = 'debit' AND balance > 0))`,
    [false]
  )
  return {
    mismatched,
    postingsTotal: Number(postingsTotal),
    balancesTotal: Number(balancesTotal),
    unbalanced,
    overdrawn,
  }
}

/** Asserts every invariant bookState reads: nothing mismatched, unbalanced or overdrawn, totals zero. */
export async function assertBooksBalance(t: import('ava').ExecutionContext) {
  const state = await bookState()
  t.deepEqual(state.mismatched, [])
  t.deepEqual(state.unbalanced, [])
  t.deepEqual(state.overdrawn, [])
  t.is(state.postingsTotal, 0)
  t.is(state.balancesTotal, 0)
}

export async function transferCount(): Promise<number> {
  const [{ total }] = await db.from('ledger_transfers').count('* as total')
  return Number(total)
}
