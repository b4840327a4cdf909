import vine from '@vinejs/vine'
import { IDENTITY_TYPES } from '#identity/models/person'
import {
  CARD_STATES,
  FREEZE_REASONS,
  MAX_NOTE_LENGTH,
  UPGRADE_TRIGGERS,
} from '#cards/services/card_rules'
import { VALIDITY_KINDS } from '#cards/services/validity'
import { MAX_OFFLINE_COUNT, PERMISSION_TAG_NAMES } from '#cards/services/code_policy'
import { ISSUANCE_TARGETS } from '#cards/models/card_issuance'

/** A public id (ULID, Crockford base32). */
export const PUBLIC_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/

/** The public id in a URL. */
export const publicIdParamsValidator = vine.create({
  publicId: vine.string().toUpperCase().regex(PUBLIC_ID),
})

/** The cards list: search and filters. */
export const cardFiltersValidator = vine.create({
  q: vine.string().trim().maxLength(64).optional(),
  type: vine.string().trim().toUpperCase().regex(PUBLIC_ID).optional(),
  state: vine.enum(CARD_STATES).optional(),
  page: vine.number().withoutDecimals().range([1, 1_000_000]).optional(),
})

/** The blacklist page's filters. */
export const blacklistFiltersValidator = vine.create({
  q: vine.string().trim().maxLength(64).optional(),
  kind: vine.enum(['card', 'physical', 'device'] as const).optional(),
  listed: vine.enum(['current', 'removed'] as const).optional(),
  page: vine.number().withoutDecimals().range([1, 1_000_000]).optional(),
})

/** A freeze from the console: an administrator's reason code and note. */
export const freezeValidator = vine.create({
  reason: vine.enum(FREEZE_REASONS),
  note: vine.string().trim().minLength(2).maxLength(MAX_NOTE_LENGTH),
})

/** A note that must be given (revoke, reissue). */
export const requiredNoteValidator = vine.create({
  note: vine.string().trim().minLength(2).maxLength(MAX_NOTE_LENGTH),
})

/** A note that may be given (unfreeze). */
export const optionalNoteValidator = vine.create({
  note: vine.string().trim().maxLength(MAX_NOTE_LENGTH).optional(),
})

/** A physical card UID as typed or read by a desk reader; its format is checked by the action. */
export const bindPhysicalValidator = vine.create({
  uid: vine.string().trim().maxLength(64),
})

/** A UID in a form (blacklist page: mark found). */
export const uidValidator = vine.create({
  uid: vine
    .string()
    .trim()
    .toUpperCase()
    .regex(/^[0-9A-F]{8,20}$/),
})

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/

/** A single issuance from the person page. */
export const issueOneValidator = vine.create({
  cardType: vine.string().trim().toUpperCase().regex(PUBLIC_ID),
  validFrom: vine.string().trim().regex(DATE_TIME).optional(),
  validUntil: vine.string().trim().regex(DATE_TIME).optional(),
})

/** The issuance form; the list comes pasted or as a file. */
export const issuanceValidator = vine.create({
  cardType: vine.string().trim().toUpperCase().regex(PUBLIC_ID),
  target: vine.enum(ISSUANCE_TARGETS),
  audience: vine.string().trim().toUpperCase().regex(PUBLIC_ID).optional(),
  list: vine.string().maxLength(1_000_000).optional(),
  validFrom: vine.string().trim().regex(DATE_TIME).optional(),
  validUntil: vine.string().trim().regex(DATE_TIME).optional(),
})

const COLOR = /^#[0-9A-Fa-f]{6}$/

/**
 * The card type form. Shapes and lengths only: the SaveCardType action
 * checks the rules (code format and uniqueness, validity numbers, images).
 */
export const cardTypeFormValidator = vine.create({
  code: vine.string().trim().maxLength(32),
  nameZh: vine.string().trim().maxLength(64),
  nameEn: vine.string().trim().maxLength(64),
  identityTypes: vine.array(vine.enum(IDENTITY_TYPES)).maxLength(IDENTITY_TYPES.length).optional(),
  audience: vine.string().trim().toUpperCase().regex(PUBLIC_ID).optional(),
  validityKind: vine.enum(VALIDITY_KINDS),
  validityUntil: vine.string().trim().maxLength(10).optional(),
  validityYears: vine.number().withoutDecimals().optional(),
  validityGraceDays: vine.number().withoutDecimals().optional(),
  validityMaxDays: vine.number().withoutDecimals().optional(),
  faceTitle: vine.string().trim().maxLength(40).optional(),
  colorBackground: vine.string().trim().regex(COLOR),
  colorText: vine.string().trim().regex(COLOR),
  colorAccent: vine.string().trim().regex(COLOR),
  showName: vine.boolean().optional(),
  showPhoto: vine.boolean().optional(),
  showNumber: vine.boolean().optional(),
  showOrg: vine.boolean().optional(),
  showType: vine.boolean().optional(),
  showValidity: vine.boolean().optional(),
  permissions: vine
    .array(vine.enum(PERMISSION_TAG_NAMES))
    .maxLength(PERMISSION_TAG_NAMES.length)
    .optional(),
  offlineCount: vine.number().withoutDecimals().range([0, MAX_OFFLINE_COUNT]).optional(),
  offlineDay: vine.string().trim().maxLength(12).optional(),
  offlineSingle: vine.string().trim().maxLength(12).optional(),
  removeBackground: vine.boolean().optional(),
  removeLogo: vine.boolean().optional(),
  enabled: vine.boolean().optional(),
  sortOrder: vine.number().withoutDecimals().range([0, 10_000]).optional(),
})

/** A new upgrade rule. */
export const upgradeRuleValidator = vine.create({
  fromType: vine.string().trim().toUpperCase().regex(PUBLIC_ID),
  toType: vine.string().trim().toUpperCase().regex(PUBLIC_ID),
  trigger: vine.enum(UPGRADE_TRIGGERS),
})

/** Which face image to serve. */
export const faceImageParamsValidator = vine.create({
  publicId: vine.string().toUpperCase().regex(PUBLIC_ID),
  kind: vine.enum(['background', 'logo'] as const),
})

/** Drops the empty values a form sends for fields left blank. */
export function withoutBlanks(input: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(input).filter(
      ([, value]) => value !== '' && value !== undefined && value !== null
    )
  )
}

/** A bulk action on the cards list: the ticked cards, or every card the filter selects. */
export const bulkValidator = vine.create({
  action: vine.enum(['freeze', 'unfreeze', 'revoke', 'reissue', 'extend'] as const),
  reason: vine.enum(FREEZE_REASONS).optional(),
  until: vine
    .string()
    .trim()
    .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/)
    .optional(),
  note: vine.string().trim().maxLength(MAX_NOTE_LENGTH).optional(),
  scope: vine.enum(['selected', 'filter'] as const).optional(),
  cards: vine
    .array(vine.string().trim().toUpperCase().regex(PUBLIC_ID))
    .maxLength(10_000)
    .optional(),
  q: vine.string().trim().maxLength(64).optional(),
  type: vine.string().trim().toUpperCase().regex(PUBLIC_ID).optional(),
  state: vine.enum(CARD_STATES).optional(),
})

/** An export of the cards list: its filters and the file format. */
export const exportCardsValidator = vine.create({
  format: vine.enum(['csv', 'xlsx'] as const),
  q: vine.string().trim().maxLength(64).optional(),
  type: vine.string().trim().toUpperCase().regex(PUBLIC_ID).optional(),
  state: vine.enum(CARD_STATES).optional(),
})
