import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { QueryClientContract, TransactionClientContract } from '@adonisjs/lucid/types/database'
import { newPublicId } from '#core/services/ids'
import LedgerAccount from '#ledger/models/ledger_account'
import {
  KIND_RULES,
  SYSTEM_ACCOUNTS,
  WALLET_KINDS,
  type AccountKind,
  type SystemAccountCode,
  type WalletKind,
} from '#ledger/services/account_kinds'

/** A time as this connection stores it (text on SQLite, with offset on PostgreSQL). */
export function dbTime(client: QueryClientContract, time: DateTime = DateTime.utc()): string {
  return time.toUTC().toFormat(client.dialect.dateTimeFormat)
}

type Owner =
  | { personId: number; merchantId?: undefined; code?: undefined }
  | { merchantId: number; personId?: undefined; code?: undefined }
  | { code: string; personId?: undefined; merchantId?: undefined }

/**
 * Finds the account of this kind and owner, creating it if it does not exist
 * yet. Two requests creating the same account at once end with one row: the
 * unique index decides, the loser inserts nothing and reads the winner's.
 */
async function findOrCreate(
  client: QueryClientContract,
  kind: AccountKind,
  owner: Owner
): Promise<LedgerAccount> {
  const find = () => {
    const query = LedgerAccount.query({ client }).where('kind', kind)
    if (owner.personId !== undefined) query.where('person_id', owner.personId)
    else if (owner.merchantId !== undefined) query.where('merchant_id', owner.merchantId)
    else query.where('code', owner.code!)
    return query.first()
  }
  const existing = await find()
  if (existing) return existing

  const rule = KIND_RULES[kind]
  const now = dbTime(client)
  const conflictOn =
    owner.personId !== undefined
      ? ['kind', 'person_id']
      : owner.merchantId !== undefined
        ? ['kind', 'merchant_id']
        : ['code']
  await client
    .insertQuery()
    .table('ledger_accounts')
    .insert({
      public_id: newPublicId(),
      kind,
      normal_side: rule.normalSide,
      currency: 'CNY',
      person_id: owner.personId ?? null,
      merchant_id: owner.merchantId ?? null,
      code: owner.code ?? null,
      balance: 0,
      allow_negative: rule.allowNegative,
      frozen: false,
      version: 0,
      created_at: now,
      updated_at: now,
    })
    .onConflict(conflictOn)
    .ignore()
  const created = await find()
  if (!created) throw new Error(`ledger account ${kind} could not be created`)
  return created
}

/**
 * A person's wallet of one kind (cash, subsidy, meal vouchers), created the
 * first time it is asked for. Pass the transaction the caller is in: on
 * SQLite there is one connection, and a query outside it would wait forever.
 */
export function walletFor(
  personId: number,
  kind: WalletKind,
  trx?: TransactionClientContract
): Promise<LedgerAccount> {
  return findOrCreate(trx ?? db.connection(), WALLET_KINDS[kind], { personId })
}

/** A person's own arrears account (what the holder owes the school). */
export function arrearsAccountFor(
  personId: number,
  trx?: TransactionClientContract
): Promise<LedgerAccount> {
  return findOrCreate(trx ?? db.connection(), 'arrears', { personId })
}

/** The account through which a merchant is paid. */
export function merchantAccount(
  merchantId: number,
  trx?: TransactionClientContract
): Promise<LedgerAccount> {
  return findOrCreate(trx ?? db.connection(), 'merchant', { merchantId })
}

/** One of the school's system accounts (advance fund, counter clearing…), created on first use. */
export function systemAccount(
  code: SystemAccountCode,
  trx?: TransactionClientContract
): Promise<LedgerAccount> {
  return findOrCreate(trx ?? db.connection(), SYSTEM_ACCOUNTS[code], { code })
}

/** Creates every system account that does not exist yet; safe to run any number of times. */
export async function ensureSystemAccounts(trx?: TransactionClientContract) {
  const accounts: LedgerAccount[] = []
  for (const code of Object.keys(SYSTEM_ACCOUNTS) as SystemAccountCode[]) {
    accounts.push(await systemAccount(code, trx))
  }
  return accounts
}

/** The person's wallets that exist, cash first; none are created. */
export async function walletsOf(personId: number, client: QueryClientContract = db.connection()) {
  const kinds = Object.values(WALLET_KINDS) as string[]
  const accounts = await LedgerAccount.query({ client })
    .where('person_id', personId)
    .whereIn('kind', [...kinds, 'arrears'])
    .orderBy('id')
  const order = [...kinds, 'arrears']
  return accounts.sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind))
}
