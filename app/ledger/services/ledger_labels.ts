import type LedgerAccount from '#ledger/models/ledger_account'

/** Looks up a translation; `fallback` when the key has none. */
export type Translate = (key: string, data?: Record<string, unknown>, fallback?: string) => string

/**
 * What an account is called on a page or in an export: the kind, and whose
 * it is ("现金钱包 · 张三 (2023001)", "商户 #12", "人工窗口清算"). Pass accounts
 * with `person` preloaded for wallets.
 */
export function accountLabel(account: LedgerAccount, t: Translate): string {
  if (account.code) return t(`ledger.system_accounts.${account.code}`, {}, account.code)
  const kind = t(`ledger.kinds.${account.kind}`, {}, account.kind)
  if (account.merchantId !== null)
    return t('ledger.labels.merchant', { kind, id: account.merchantId })
  // Undefined unless the caller preloaded it.
  const person = account.person as { name: string; personNo: string } | undefined
  if (person)
    return t('ledger.labels.person', { kind, name: person.name, personNo: person.personNo })
  return kind
}

/** The label of a kind of transfer, or the kind itself for kinds this version does not name. */
export function transferKindLabel(kind: string, t: Translate): string {
  return t(`ledger.transfer_kinds.${kind}`, {}, kind)
}
