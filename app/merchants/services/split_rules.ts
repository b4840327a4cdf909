import { fail, ok, type Result } from '#core/services/result'

/**
 * Split rules (分账): who shares a merchant's takings, in basis points that
 * sum to 10000 (operator 8500 / school 1500). Settlement applies them; a
 * payment always credits the merchant's account in full.
 */
export interface SplitParty {
  /** A short key: operator, school, or another party's name. */
  party: string
  /** Basis points, 1…10000. */
  basisPoints: number
}

export const FULL_SHARE = 10_000
export const MAX_SPLIT_PARTIES = 10
const PARTY = /^[\p{L}\p{N}_ .-]{1,40}$/u

/** Everything to the merchant's operator: the rule a new merchant starts with. */
export const DEFAULT_SPLIT: SplitParty[] = [{ party: 'operator', basisPoints: FULL_SHARE }]

export type SplitRuleError =
  | 'split_empty'
  | 'split_invalid_party'
  | 'split_invalid_share'
  | 'split_duplicate_party'
  | 'split_not_full'

/** Checks a list of parties: known shape, distinct names, shares summing to 10000. */
export function checkSplitRules(value: unknown): Result<SplitParty[], SplitRuleError> {
  if (!Array.isArray(value) || value.length === 0) return fail('split_empty')
  if (value.length > MAX_SPLIT_PARTIES) return fail('split_invalid_party')
  const seen = new Set<string>()
  const parties: SplitParty[] = []
  let total = 0
  for (const item of value) {
    const party = typeof item?.party === 'string' ? item.party.trim() : ''
    if (!PARTY.test(party)) return fail('split_invalid_party')
    const share = item?.basisPoints
    if (!Number.isSafeInteger(share) || share < 1 || share > FULL_SHARE)
      return fail('split_invalid_share', { party })
    if (seen.has(party)) return fail('split_duplicate_party', { party })
    seen.add(party)
    total += share
    parties.push({ party, basisPoints: share })
  }
  if (total !== FULL_SHARE) return fail('split_not_full', { total })
  return ok(parties)
}

/** Reads the stored JSON; a damaged value reads as the default rule. */
export function readSplitRules(value: unknown): SplitParty[] {
  try {
    const parsed = typeof value === 'string' ? JSON.parse(value) : value
    const checked = checkSplitRules(parsed)
    return checked.ok ? checked.value : DEFAULT_SPLIT
  } catch {
    return DEFAULT_SPLIT
  }
}

/**
 * Shares of an amount in fen: each party's floor, the remainder of the
 * rounding to the first party, so that the shares always sum to the amount.
 */
export function splitAmount(
  amount: number,
  parties: SplitParty[]
): { party: string; amount: number }[] {
  const shares = parties.map((item) => ({
    party: item.party,
    amount: Math.floor((amount * item.basisPoints) / FULL_SHARE),
  }))
  const rest = amount - shares.reduce((sum, share) => sum + share.amount, 0)
  if (shares.length > 0) shares[0].amount += rest
  return shares
}
