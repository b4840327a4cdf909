import vine from '@vinejs/vine'

const nullableText = (max: number) => vine.string().trim().maxLength(max).nullable().optional()

/**
 * The shape of a person body. Values (identity types, statuses, ID check
 * digits, known org units…) are checked by SavePerson, the same rules as
 * the console and imports.
 */
export const apiPersonValidator = vine.compile(
  vine.object({
    name: vine.string().maxLength(200).optional(),
    gender: vine.string().maxLength(32).optional(),
    identity_type: vine.string().maxLength(32).optional(),
    org_unit: vine.string().trim().maxLength(64).optional(),
    enrollment_year: vine.number().withoutDecimals().nullable().optional(),
    expected_graduation_date: nullableText(32),
    email: nullableText(254),
    phone: nullableText(32),
    id_doc_type: nullableText(32),
    id_doc_number: nullableText(64),
    tags: vine.array(vine.string().maxLength(64)).maxLength(50).optional(),
    status: vine.string().maxLength(32).optional(),
    status_reason: nullableText(500),
  })
)

export const apiStatusValidator = vine.compile(
  vine.object({
    status: vine.string().maxLength(32),
    reason: vine.string().maxLength(1000),
  })
)

export const apiPeopleQueryValidator = vine.compile(
  vine.object({
    q: vine.string().trim().maxLength(100).optional(),
    identity_type: vine.string().maxLength(32).optional(),
    status: vine.string().maxLength(32).optional(),
    org_unit: vine.string().trim().maxLength(64).optional(),
    page: vine.number().withoutDecimals().min(1).optional(),
    per_page: vine.number().withoutDecimals().min(1).max(200).optional(),
  })
)

export const apiOrgUnitValidator = vine.compile(
  vine.object({
    name: vine.string().maxLength(200),
    kind: vine.string().maxLength(32),
    /** The parent's code; null or absent for the root. */
    parent: vine.string().trim().maxLength(64).nullable().optional(),
  })
)
