import type OrgUnit from '#identity/models/org_unit'
import type Person from '#identity/models/person'

/**
 * A person as the API shows them. Phone and ID numbers appear masked only:
 * revealing them is a console action that needs a permission and is audited.
 */
export function personJson(person: Person) {
  return {
    id: person.publicId,
    person_no: person.personNo,
    name: person.name,
    gender: person.gender,
    identity_type: person.identityType,
    status: person.status,
    org_unit: person.orgUnit ? { code: person.orgUnit.code, name: person.orgUnit.name } : null,
    enrollment_year: person.enrollmentYear,
    expected_graduation_date: person.expectedGraduationDate?.toISODate() ?? null,
    email: person.email,
    phone_masked: person.phoneMasked,
    id_doc_type: person.idDocType,
    id_doc_masked: person.idDocMasked,
    tags: person.tags ? person.tags.map((tag) => tag.name).sort() : [],
    created_at: person.createdAt.toUTC().toISO(),
    updated_at: person.updatedAt.toUTC().toISO(),
  }
}

/** An org unit as the API shows it, its parent named by code. */
export function orgUnitJson(unit: OrgUnit, parentCode: string | null) {
  return {
    id: unit.publicId,
    code: unit.code,
    name: unit.name,
    kind: unit.kind,
    parent: parentCode,
    depth: unit.depth,
    disabled: unit.disabledAt !== null,
  }
}
