import vine from '@vinejs/vine'
import { IDENTITY_TYPES, PERSON_STATUSES } from '#identity/models/person'

const PUBLIC_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/

/** The public id in /console/imports/:publicId. */
export const importParamsValidator = vine.create({
  publicId: vine.string().toUpperCase().regex(PUBLIC_ID),
})

/** The column mapping form: for each header of the file, a column key or "ignore". */
export const importMappingValidator = vine.create({
  columns: vine.array(vine.string().regex(/^[a-z_]{1,40}$/)).maxLength(200),
})

/** The format in the template and export URLs. */
export const formatParamsValidator = vine.create({
  format: vine.enum(['csv', 'xlsx'] as const),
})

/** The export form: the people list's filters, a format and the reveal checkbox. */
export const exportPeopleValidator = vine.create({
  format: vine.enum(['csv', 'xlsx'] as const),
  q: vine.string().trim().maxLength(64).optional(),
  type: vine.enum(IDENTITY_TYPES).optional(),
  status: vine.enum(PERSON_STATUSES).optional(),
  unit: vine.string().trim().toUpperCase().regex(PUBLIC_ID).optional(),
  revealPii: vine.boolean().optional(),
})
