import vine from '@vinejs/vine'
import { ORG_UNIT_KINDS } from '#identity/models/org_unit'

const PUBLIC_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/

/** The public id in /console/org/:publicId. */
export const orgUnitParamsValidator = vine.create({
  publicId: vine.string().toUpperCase().regex(PUBLIC_ID),
})

/** A new unit under a parent; without a parent, a top-level unit (the school). */
export const newOrgUnitValidator = vine.create({
  parent: vine.string().trim().toUpperCase().regex(PUBLIC_ID).optional(),
  kind: vine.enum(ORG_UNIT_KINDS),
  unitCode: vine.string().trim().maxLength(32),
  unitName: vine.string().trim().maxLength(120),
  sortOrder: vine.number().withoutDecimals().range([0, 100000]).optional(),
})

/** A new name, and code, for a unit. */
export const renameOrgUnitValidator = vine.create({
  unitName: vine.string().trim().maxLength(120),
  unitCode: vine.string().trim().maxLength(32),
})

/** The new parent of a unit. */
export const moveOrgUnitValidator = vine.create({
  newParent: vine.string().trim().toUpperCase().regex(PUBLIC_ID),
})

/** Why a unit is disabled (optional). */
export const disableOrgUnitValidator = vine.create({
  reason: vine.string().trim().maxLength(500).optional(),
})
