/**
 * What a card type's campus codes may do: the permission tags and the
 * offline limits the appliance signs into every credential of the type
 * (docs/campus-code.md §12). Terminals enforce them when they cannot reach
 * the gateway; online, the gateway applies wallets and the school's rules.
 */
import { fail, ok, type Result } from '#core/services/result'
import { PERMISSION_TAGS, type OfflineLimits, type PermissionTag } from '#cards/campus_code/layout'
import { Money } from '#ledger/services/money'

export interface CodePolicy {
  permissions: PermissionTag[]
  offline: OfflineLimits
}

export const PERMISSION_TAG_NAMES = Object.keys(PERMISSION_TAGS) as PermissionTag[]

/** Most offline payments a day the format carries. */
export const MAX_OFFLINE_COUNT = 255
/** ¥1,000.00 a day offline: a lost phone and a lying terminal can cost at most that. */
export const MAX_OFFLINE_DAY_FEN = 100_000

/** A campus member's card: pays, opens doors, signs in; 5 offline payments, ¥100 a day, ¥30 each. */
export const DEFAULT_CODE_POLICY: CodePolicy = {
  permissions: ['payment', 'access', 'sign_in'],
  offline: { maxCountPerDay: 5, maxAmountPerDayFen: 10_000, maxSingleAmountFen: 3_000 },
}

/** No offline payment at all. */
export const NO_OFFLINE: OfflineLimits = {
  maxCountPerDay: 0,
  maxAmountPerDayFen: 0,
  maxSingleAmountFen: 0,
}

export type CodePolicyError = 'permission_invalid' | 'offline_limits_invalid'

function isWhole(value: unknown, max: number): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= max
}

/** Checks a policy as submitted; the tags come back in their bit order, without repeats. */
export function checkCodePolicy(input: {
  permissions: readonly string[]
  offline: OfflineLimits
}): Result<CodePolicy, CodePolicyError> {
  if (!input.permissions.every((tag) => PERMISSION_TAG_NAMES.includes(tag as PermissionTag)))
    return fail('permission_invalid')
  const permissions = PERMISSION_TAG_NAMES.filter((tag) => input.permissions.includes(tag))
  const { maxCountPerDay, maxAmountPerDayFen, maxSingleAmountFen } = input.offline
  if (
    !isWhole(maxCountPerDay, MAX_OFFLINE_COUNT) ||
    !isWhole(maxAmountPerDayFen, MAX_OFFLINE_DAY_FEN) ||
    !isWhole(maxSingleAmountFen, maxAmountPerDayFen)
  )
    return fail('offline_limits_invalid')
  // Without the payment tag, or with nothing to spend, there is no offline payment.
  const none = !permissions.includes('payment') || maxCountPerDay === 0 || maxAmountPerDayFen === 0
  return ok({
    permissions,
    offline: none ? { ...NO_OFFLINE } : { maxCountPerDay, maxAmountPerDayFen, maxSingleAmountFen },
  })
}

/** The stored policy (JSON), or the default for anything missing or damaged. */
export function readCodePolicy(value: unknown): CodePolicy {
  if (typeof value !== 'string' || !value) return structuredClone(DEFAULT_CODE_POLICY)
  try {
    const parsed = JSON.parse(value)
    const checked = checkCodePolicy({
      permissions: Array.isArray(parsed.permissions) ? parsed.permissions.map(String) : [],
      offline: parsed.offline ?? {},
    })
    return checked.ok ? checked.value : structuredClone(DEFAULT_CODE_POLICY)
  } catch {
    return structuredClone(DEFAULT_CODE_POLICY)
  }
}

/** Yuan as typed in the form ("30", "12.50") to fen; null when it is not an amount. */
export function yuanToFen(text: string | undefined): number | null {
  if (text === undefined || text === '') return 0
  const parsed = Money.parse(text)
  return parsed.ok && parsed.value.fen >= 0 ? parsed.value.fen : null
}
