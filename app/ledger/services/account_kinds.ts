/**
 * The kinds of ledger account and the rules each kind is born with.
 *
 * - normalSide: where the account's balance normally sits. Credit accounts
 *   (wallets, merchants, income) hold money the school owes or has earned;
 *   debit accounts (clearing, advances, arrears, subsidy spending) hold money
 *   the school has received or is owed, or has spent.
 * - allowNegative: false means the balance, read on the normal side, never
 *   goes below zero: a wallet cannot pay more than it holds.
 * - owner: who an account of this kind belongs to.
 */
export const ACCOUNT_KINDS = [
  'wallet_cash',
  'wallet_subsidy',
  'wallet_voucher',
  'merchant',
  'channel_clearing',
  'advance_fund',
  'arrears',
  'fee_income',
  'subsidy_funding',
  'suspense',
] as const

export type AccountKind = (typeof ACCOUNT_KINDS)[number]

export type NormalSide = 'debit' | 'credit'

export type OwnerType = 'person' | 'merchant' | 'system'

export interface KindRule {
  normalSide: NormalSide
  allowNegative: boolean
  owners: readonly OwnerType[]
}

export const KIND_RULES: Record<AccountKind, KindRule> = {
  wallet_cash: { normalSide: 'credit', allowNegative: false, owners: ['person'] },
  wallet_subsidy: { normalSide: 'credit', allowNegative: false, owners: ['person'] },
  wallet_voucher: { normalSide: 'credit', allowNegative: false, owners: ['person'] },
  merchant: { normalSide: 'credit', allowNegative: false, owners: ['merchant'] },
  channel_clearing: { normalSide: 'debit', allowNegative: true, owners: ['system'] },
  advance_fund: { normalSide: 'debit', allowNegative: true, owners: ['system'] },
  // A holder's own arrears account, and the system's control account.
  arrears: { normalSide: 'debit', allowNegative: true, owners: ['person', 'system'] },
  fee_income: { normalSide: 'credit', allowNegative: true, owners: ['system'] },
  subsidy_funding: { normalSide: 'debit', allowNegative: true, owners: ['system'] },
  suspense: { normalSide: 'credit', allowNegative: true, owners: ['system'] },
}

/** A person's wallets, by the short name used across Quad. */
export const WALLET_KINDS = {
  cash: 'wallet_cash',
  subsidy: 'wallet_subsidy',
  voucher: 'wallet_voucher',
} as const satisfies Record<string, AccountKind>

export type WalletKind = keyof typeof WALLET_KINDS

/**
 * The system accounts every school has, by code. Top-up channels each get a
 * clearing account: money received through the channel and not yet
 * reconciled with the bank.
 */
export const SYSTEM_ACCOUNTS = {
  counter_clearing: 'channel_clearing',
  advance_fund: 'advance_fund',
  arrears_control: 'arrears',
  fee_income: 'fee_income',
  subsidy_funding: 'subsidy_funding',
  suspense: 'suspense',
  payout_clearing: 'channel_clearing',
} as const satisfies Record<string, AccountKind>

export type SystemAccountCode = keyof typeof SYSTEM_ACCOUNTS

export function isAccountKind(value: string): value is AccountKind {
  return (ACCOUNT_KINDS as readonly string[]).includes(value)
}

/** The balance as shown to people: positive on the account's normal side. */
export function shownBalance(normalSide: NormalSide, balance: number): number {
  return normalSide === 'credit' ? balance : -balance || 0
}

/** True when this balance is allowed for an account with these rules. */
export function balanceAllowed(normalSide: NormalSide, allowNegative: boolean, balance: number) {
  return allowNegative || shownBalance(normalSide, balance) >= 0
}
