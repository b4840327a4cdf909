import type OrgUnit from '#identity/models/org_unit'

/** Org unit codes: what imports and directory entries use to name a unit. */
const CODE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/

export function checkOrgUnitCode(
  raw: string
): { ok: true; value: string } | { ok: false; error: 'code_format' } {
  const value = (raw ?? '').trim()
  return CODE.test(value) ? { ok: true, value } : { ok: false, error: 'code_format' }
}

export function checkOrgUnitName(
  raw: string
): { ok: true; value: string } | { ok: false; error: 'name_length' } {
  const value = (raw ?? '').replace(/\s+/g, ' ').trim()
  return value.length > 0 && [...value].length <= 120
    ? { ok: true, value }
    : { ok: false, error: 'name_length' }
}

/** What an org unit's history and audit entries keep of it. */
export function orgUnitSnapshot(unit: OrgUnit, parent: OrgUnit | null) {
  return {
    kind: unit.kind,
    code: unit.code,
    name: unit.name,
    parent: parent ? `${parent.name} (${parent.code})` : null,
  }
}
