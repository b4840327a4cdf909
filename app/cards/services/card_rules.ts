import { IDENTITY_TYPES, type IdentityType } from '#identity/models/person'

/**
 * The words of the card lifecycle and the rules that say which change may
 * follow which. Actions ask here; nothing else compares states.
 */

export const CARD_STATES = ['pending_activation', 'active', 'frozen', 'revoked', 'expired'] as const
export type CardState = (typeof CARD_STATES)[number]

/** States in which a card still counts as the person's card of its type. */
export const LIVE_STATES: readonly CardState[] = ['pending_activation', 'active', 'frozen']

/** Who froze a card: the holder reporting a loss, an administrator, or the risk engine. */
export const FREEZE_ACTORS = ['holder', 'admin', 'risk'] as const
export type FreezeActor = (typeof FREEZE_ACTORS)[number]

/** Why a card is frozen. */
export const FREEZE_REASONS = ['lost', 'admin', 'risk'] as const
export type FreezeReason = (typeof FREEZE_REASONS)[number]

/** Why a card ended before its time. */
export const REVOKE_REASONS = ['admin', 'reissued', 'upgraded', 'left'] as const
export type RevokeReason = (typeof REVOKE_REASONS)[number]

export const CARD_EVENTS = [
  'issued',
  'activated',
  'frozen',
  'unfrozen',
  'revoked',
  'reissued',
  'expired',
  'upgraded',
  'physical_bound',
  'physical_unbound',
  'physical_lost',
  'physical_found',
  'extended',
] as const
export type CardEventName = (typeof CARD_EVENTS)[number]

export type CardAction = 'activate' | 'freeze' | 'unfreeze' | 'revoke' | 'reissue' | 'expire'

/** The states each action may start from. */
const ALLOWED: Readonly<Record<CardAction, readonly CardState[]>> = {
  activate: ['pending_activation'],
  freeze: ['pending_activation', 'active'],
  unfreeze: ['frozen'],
  revoke: ['pending_activation', 'active', 'frozen'],
  reissue: ['pending_activation', 'active', 'frozen'],
  expire: ['pending_activation', 'active', 'frozen'],
}

/** True when `action` may be applied to a card in `state`. */
export function canApply(action: CardAction, state: CardState): boolean {
  return ALLOWED[action].includes(state)
}

/** The actions the console offers for a card in `state`. */
export function actionsFor(state: CardState): CardAction[] {
  return (Object.keys(ALLOWED) as CardAction[]).filter(
    (action) => action !== 'expire' && canApply(action, state)
  )
}

export function isLive(state: CardState): boolean {
  return LIVE_STATES.includes(state)
}

/** The longest note kept with a freeze, revocation or reissue. */
export const MAX_NOTE_LENGTH = 500

/** Upgrade triggers: the person's status became graduated, or their expected graduation date passed. */
export const UPGRADE_TRIGGERS = ['graduated', 'graduation_date_passed'] as const
export type UpgradeTrigger = (typeof UPGRADE_TRIGGERS)[number]

export function isIdentityType(value: unknown): value is IdentityType {
  return typeof value === 'string' && (IDENTITY_TYPES as readonly string[]).includes(value)
}
