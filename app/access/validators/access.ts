import vine from '@vinejs/vine'
import { POINT_KINDS } from '#access/models/access_point'
import {
  ACCESS_REASONS,
  EXCEPTION_EFFECTS,
  HOLIDAY_EFFECTS,
  POINT_DIRECTIONS,
} from '#access/services/access_decision'

/** A public id (ULID, Crockford base32). */
export const PUBLIC_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/

const publicId = () => vine.string().trim().toUpperCase().regex(PUBLIC_ID)
const code = () =>
  vine
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_-]{1,32}$/)
const name = () => vine.string().trim().minLength(1).maxLength(100)
const date = () =>
  vine
    .string()
    .trim()
    .regex(/^\d{4}-\d{2}-\d{2}$/)

/** The public id in a URL. */
export const publicIdParamsValidator = vine.create({ publicId: publicId() })

export const zoneValidator = vine.create({
  code: code(),
  name: name(),
  parent: publicId().optional(),
  description: vine.string().trim().maxLength(500).optional(),
})

export const pointValidator = vine.create({
  code: code(),
  name: name(),
  zone: publicId(),
  kind: vine.enum(POINT_KINDS),
  direction: vine.enum(POINT_DIRECTIONS),
  terminal: publicId().optional(),
  enabled: vine.boolean().optional(),
})

/** The group form; its windows rows are checked by accessWindows. */
export const groupValidator = vine.create({
  name: name(),
  audience: publicId(),
  zones: vine.array(publicId()).maxLength(500).optional(),
  enabled: vine.boolean().optional(),
  description: vine.string().trim().maxLength(500).optional(),
})

/** The holiday form; its hours rows are checked by holidayWindows. */
export const holidayValidator = vine.create({
  name: name(),
  startsOn: date(),
  endsOn: date(),
  effect: vine.enum(HOLIDAY_EFFECTS),
  group: publicId().optional(),
})

export const exceptionValidator = vine.create({
  personNo: vine.string().trim().minLength(1).maxLength(32),
  zone: publicId(),
  effect: vine.enum(EXCEPTION_EFFECTS),
  /** The last day it applies, in school time. */
  until: date(),
  note: vine.string().trim().maxLength(500).optional(),
})

const eventFilters = {
  q: vine.string().trim().maxLength(64).optional(),
  zone: publicId().optional(),
  point: publicId().optional(),
  outcome: vine.enum(['allowed', 'denied'] as const).optional(),
  reason: vine.enum(ACCESS_REASONS).optional(),
  mode: vine.enum(['online', 'offline'] as const).optional(),
  from: date().optional(),
  to: date().optional(),
}

export const eventFiltersValidator = vine.create({
  ...eventFilters,
  page: vine.number().withoutDecimals().range([1, 1_000_000]).optional(),
})

export const exportEventsValidator = vine.create({
  ...eventFilters,
  format: vine.enum(['csv', 'xlsx'] as const),
})

/** Drops empty strings, so that blank form fields count as absent. */
export function withoutBlanks(input: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== ''))
}
