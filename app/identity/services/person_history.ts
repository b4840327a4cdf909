import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import type { AuditActor } from '#core/services/audit'
import type OrgUnit from '#identity/models/org_unit'
import type Person from '#identity/models/person'
import PersonChange, { type PersonChangeKind } from '#identity/models/person_change'
import OrgUnitChange, { type OrgUnitChangeKind } from '#identity/models/org_unit_change'
import type { FieldChanges } from '#identity/models/record_change'

/**
 * What the history and the audit log keep of a person: every field a person
 * page shows, with phone and ID numbers in their masked form only.
 */
export interface PersonSnapshot {
  personNo: string
  name: string
  gender: string
  identityType: string
  status: string
  orgUnit: string
  enrollmentYear: number | null
  expectedGraduationDate: string | null
  email: string | null
  phone: string | null
  idDocType: string | null
  idDocNumber: string | null
  tags: string[]
  photo: boolean
}

/** The snapshot of a person, given their unit and tag names. */
export function personSnapshot(person: Person, unit: OrgUnit, tags: string[]): PersonSnapshot {
  return {
    personNo: person.personNo,
    name: person.name,
    gender: person.gender,
    identityType: person.identityType,
    status: person.status,
    orgUnit: `${unit.name} (${unit.code})`,
    enrollmentYear: person.enrollmentYear ?? null,
    expectedGraduationDate: person.expectedGraduationDate?.toISODate() ?? null,
    email: person.email ?? null,
    phone: person.phoneMasked ?? null,
    idDocType: person.idDocType ?? null,
    idDocNumber: person.idDocMasked ?? null,
    tags: [...tags].sort(),
    photo: Boolean(person.photoPath),
  }
}

/**
 * The fields that differ between two snapshots, as [before, after]. A null
 * `before` (a new record) lists every field that has a value.
 */
export function diffSnapshots<T extends object>(before: T | null, after: T): FieldChanges {
  const changes: FieldChanges = {}
  for (const [key, value] of Object.entries(after)) {
    const previous = before ? (before as Record<string, unknown>)[key] : null
    if (JSON.stringify(previous ?? null) === JSON.stringify(value ?? null)) continue
    changes[key] = [previous ?? null, value ?? null]
  }
  return changes
}

/** Both sides of a diff, for the audit entry's before and after. */
export function auditSides(changes: FieldChanges) {
  const before: Record<string, unknown> = {}
  const after: Record<string, unknown> = {}
  for (const [key, [from, to]] of Object.entries(changes)) {
    before[key] = from
    after[key] = to
  }
  return { before, after }
}

function actorColumns(actor: AuditActor) {
  return {
    actorType: actor.type,
    actorId: actor.id ?? null,
    actorName: actor.name ?? null,
  }
}

/** Appends an entry to a person's history inside the caller's transaction. */
export async function recordPersonChange(
  trx: TransactionClientContract,
  person: Person,
  kind: PersonChangeKind,
  changes: FieldChanges,
  actor: AuditActor,
  reason: string | null = null
) {
  return PersonChange.create(
    { personId: person.id, kind, changes, reason, ...actorColumns(actor) },
    { client: trx }
  )
}

/** Appends an entry to an org unit's history inside the caller's transaction. */
export async function recordOrgUnitChange(
  trx: TransactionClientContract,
  unit: OrgUnit,
  kind: OrgUnitChangeKind,
  changes: FieldChanges,
  actor: AuditActor,
  reason: string | null = null
) {
  return OrgUnitChange.create(
    { orgUnitId: unit.id, kind, changes, reason, ...actorColumns(actor) },
    { client: trx }
  )
}
