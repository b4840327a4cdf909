import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import { recordAudit, type AuditActor, type AuditEvent } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import OrgUnit from '#identity/models/org_unit'
import Person, {
  GENDERS,
  IDENTITY_TYPES,
  PERSON_STATUSES,
  type Gender,
  type IdentityType,
  type PersonStatus,
} from '#identity/models/person'
import Tag from '#identity/models/tag'
import { findOrgUnit, type OrgUnitRef } from '#identity/services/org_units'
import {
  ID_DOC_TYPES,
  checkIdDocNumber,
  checkPhone,
  checkTags,
  type IdDocType,
} from '#identity/services/person_rules'
import { canChangeStatus, MAX_REASON_LENGTH } from '#identity/services/person_status'
import {
  auditSides,
  diffSnapshots,
  personSnapshot,
  recordPersonChange,
  type PersonSnapshot,
} from '#identity/services/person_history'
import type { FieldChanges } from '#identity/models/record_change'
import { scopeIncludesPath, type OrgScope } from '#identity/services/org_scope'
import { recordAuditBatch } from '#identity/services/import_audit'
import { blindIndex, encryptPii, maskIdNumber, maskPhone } from '#identity/services/pii'
import { removePersonPhoto, storePersonPhoto } from '#identity/services/person_photos'

/**
 * The data of a person as any adapter hands it over: the console form, an
 * import row, a directory entry, an API body. On update, a field left
 * undefined keeps its value and null clears it.
 */
export interface PersonInput {
  personNo?: string
  name?: string
  gender?: Gender
  identityType?: IdentityType
  orgUnit?: OrgUnitRef
  enrollmentYear?: number | null
  /** yyyy-MM-dd */
  expectedGraduationDate?: string | null
  email?: string | null
  phone?: string | null
  idDocType?: IdDocType | null
  idDocNumber?: string | null
  /** Replaces the person's tags. */
  tags?: string[]
  /** On create the initial status (default active); on update a change that needs `statusReason`. */
  status?: PersonStatus
  statusReason?: string | null
  /** A file to take as the photo (copied, the source is left alone); null removes the photo. */
  photo?: { sourcePath: string } | null
}

/** create: the person number must be new; update: the person with this public id; upsert: keyed by person number. */
export type SaveMode =
  { mode: 'create' } | { mode: 'update'; publicId: string } | { mode: 'upsert' }

export type PersonField = keyof PersonInput

/** Why a field was refused; adapters translate `identity.people.errors.<code>`. */
export interface FieldError {
  field: PersonField
  code: string
}

export type SavePersonError = 'invalid' | 'not_found'

export interface SavedPerson {
  person: Person
  created: boolean
  /** Names of the fields that changed; empty when the save changed nothing. */
  changed: string[]
}

interface SaveOutcome {
  result: Result<SavedPerson, SavePersonError>
  /** The photo file this save copied in. */
  storedPhoto: string | null
  /** The photo file the save replaced or removed, to delete after commit. */
  replacedPhoto: string | null
}

const PERSON_NO = /^[A-Z0-9][A-Z0-9_-]{0,31}$/
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

/** The field errors of a failed save, or an empty list. */
export function fieldErrorsOf(result: Result<unknown, string>): FieldError[] {
  if (result.ok) return []
  return (result.details?.errors as FieldError[] | undefined) ?? []
}

/** What the rules of a save need from the database, looked up beforehand. */
export interface SaveFacts {
  /** The person the save changes; null when it creates one. */
  person: Person | null
  /** Whether someone other than `person` holds the given person number. */
  numberTaken: boolean
  /** The unit `input.orgUnit` names (null: no such unit); undefined when no unit was given. */
  unit: OrgUnit | null | undefined
}

/** The columns of a person a save sets, once every rule passed. */
type PersonChanges = Partial<
  Pick<
    Person,
    | 'personNo'
    | 'name'
    | 'gender'
    | 'identityType'
    | 'orgUnitId'
    | 'enrollmentYear'
    | 'expectedGraduationDate'
    | 'email'
    | 'status'
    | 'phoneCiphertext'
    | 'phoneIndex'
    | 'phoneMasked'
    | 'idDocType'
    | 'idDocCiphertext'
    | 'idDocIndex'
    | 'idDocMasked'
  >
>

/** What a save writes: the changed columns, the unit and tags, and the status reason. */
export interface SavePlan {
  creating: boolean
  changes: PersonChanges
  /** The unit given in the input; null when the person keeps theirs. */
  unit: OrgUnit | null
  /** The new tags; undefined keeps the person's tags. */
  tags: string[] | undefined
  reason: string | null
}

/**
 * Applies every rule of the registry to one input: unique person number, a
 * known and enabled org unit, a GB 11643 valid resident ID, a plausible
 * phone number, a real graduation date, tags, and the allowed status
 * transitions. Pure: the database facts come in `facts`, so that one save
 * and a batch of thousands judge a row the same way. Phone and ID numbers
 * are encrypted here, with a blind index and a masked copy; a number equal
 * to the stored one (same blind index) is left as it is.
 */
export function planPersonSave(
  input: PersonInput,
  facts: SaveFacts
): { ok: true; plan: SavePlan } | { ok: false; errors: FieldError[] } {
  const { person } = facts
  const creating = person === null
  const errors: FieldError[] = []
  const refuseField = (field: PersonField, code: string) => errors.push({ field, code })

  // Required on create; on update only checked when given.
  const personNo = input.personNo?.trim().toUpperCase()
  if (personNo !== undefined) {
    if (!PERSON_NO.test(personNo)) refuseField('personNo', 'person_no_format')
    else if (facts.numberTaken) refuseField('personNo', 'person_no_taken')
  } else if (creating) refuseField('personNo', 'required')

  const name = input.name?.replace(/\s+/g, ' ').trim()
  if (name !== undefined) {
    if (name.length === 0 || [...name].length > 64) refuseField('name', 'name_length')
  } else if (creating) refuseField('name', 'required')

  if (input.gender !== undefined && !GENDERS.includes(input.gender)) {
    refuseField('gender', 'invalid_choice')
  }
  if (input.identityType !== undefined) {
    if (!IDENTITY_TYPES.includes(input.identityType)) refuseField('identityType', 'invalid_choice')
  } else if (creating) refuseField('identityType', 'required')

  let unit: OrgUnit | null = null
  if (input.orgUnit !== undefined) {
    unit = facts.unit ?? null
    if (!unit) refuseField('orgUnit', 'org_unit_unknown')
    // People already in a unit that was disabled may stay; nobody new joins it.
    else if (unit.disabledAt && unit.id !== person?.orgUnitId) {
      refuseField('orgUnit', 'org_unit_disabled')
    }
  } else if (creating) refuseField('orgUnit', 'required')

  if (input.enrollmentYear !== undefined && input.enrollmentYear !== null) {
    if (
      !Number.isInteger(input.enrollmentYear) ||
      input.enrollmentYear < 1900 ||
      input.enrollmentYear > 2100
    ) {
      refuseField('enrollmentYear', 'year_range')
    }
  }

  let graduation: DateTime | null | undefined
  if (input.expectedGraduationDate !== undefined && input.expectedGraduationDate !== null) {
    graduation = DateTime.fromFormat(input.expectedGraduationDate, 'yyyy-MM-dd', { zone: 'utc' })
    if (!graduation.isValid) refuseField('expectedGraduationDate', 'invalid_date')
    else {
      const year =
        input.enrollmentYear !== undefined ? input.enrollmentYear : (person?.enrollmentYear ?? null)
      if (year !== null && graduation.year < year) {
        refuseField('expectedGraduationDate', 'graduation_before_enrollment')
      }
    }
  } else if (input.expectedGraduationDate === null) graduation = null

  const email = input.email === undefined ? undefined : input.email?.trim() || null
  if (email && (email.length > 254 || !EMAIL.test(email))) refuseField('email', 'email_format')

  let phone: string | null | undefined
  if (input.phone !== undefined) {
    const raw = input.phone?.trim() || null
    if (raw === null) phone = null
    else {
      const checked = checkPhone(raw)
      if (checked.ok) phone = checked.value
      else refuseField('phone', checked.error)
    }
  }

  // The type and the number go together: a number means nothing without its type.
  let idDoc: { type: IdDocType; number: string } | null | undefined
  if (input.idDocType !== undefined || input.idDocNumber !== undefined) {
    const type = input.idDocType === undefined ? (person?.idDocType ?? null) : input.idDocType
    const rawNumber =
      input.idDocNumber === undefined ? undefined : input.idDocNumber?.trim() || null
    if (type !== null && !ID_DOC_TYPES.includes(type)) refuseField('idDocType', 'invalid_choice')
    else if (rawNumber === null || (rawNumber === undefined && !person?.idDocCiphertext)) {
      if (type !== null) refuseField('idDocNumber', 'id_doc_number_missing')
      else idDoc = null
    } else if (type === null) refuseField('idDocType', 'id_doc_type_missing')
    else if (rawNumber !== undefined) {
      const checked = checkIdDocNumber(type, rawNumber)
      if (checked.ok) idDoc = { type, number: checked.value }
      else refuseField('idDocNumber', checked.error)
    } else if (type !== person?.idDocType) {
      // A new type for the stored number: it must be entered again to be checked.
      refuseField('idDocNumber', 'id_doc_number_missing')
    }
  }

  let tags: string[] | undefined
  if (input.tags !== undefined) {
    const checked = checkTags(input.tags)
    if (checked.ok) tags = checked.value
    else refuseField('tags', checked.error)
  }

  const reason = input.statusReason?.trim() || null
  if (input.status !== undefined) {
    if (!PERSON_STATUSES.includes(input.status)) refuseField('status', 'invalid_choice')
    else if (person && input.status !== person.status) {
      if (!canChangeStatus(person.status, input.status)) refuseField('status', 'status_transition')
      else if (!reason) refuseField('statusReason', 'reason_required')
    }
  }
  if (reason && reason.length > MAX_REASON_LENGTH) refuseField('statusReason', 'reason_length')

  if (errors.length) return { ok: false, errors }

  const changes: PersonChanges = {}
  if (personNo !== undefined) changes.personNo = personNo
  if (name !== undefined) changes.name = name
  if (input.gender !== undefined) changes.gender = input.gender
  else if (creating) changes.gender = 'unknown'
  if (input.identityType !== undefined) changes.identityType = input.identityType
  if (unit) changes.orgUnitId = unit.id
  if (input.enrollmentYear !== undefined) changes.enrollmentYear = input.enrollmentYear
  if (graduation !== undefined) changes.expectedGraduationDate = graduation
  if (email !== undefined) changes.email = email
  if (input.status !== undefined) changes.status = input.status
  else if (creating) changes.status = 'active'
  if (phone === null) {
    Object.assign(changes, { phoneCiphertext: null, phoneIndex: null, phoneMasked: null })
  } else if (phone !== undefined) {
    const index = blindIndex('phone', phone)
    // Re-entering the stored number changes nothing: no fresh ciphertext either.
    if (index !== person?.phoneIndex || !person.phoneCiphertext) {
      changes.phoneCiphertext = encryptPii('phone', phone)
      changes.phoneIndex = index
      changes.phoneMasked = maskPhone(phone)
    }
  }
  if (idDoc === null) {
    Object.assign(changes, {
      idDocType: null,
      idDocCiphertext: null,
      idDocIndex: null,
      idDocMasked: null,
    })
  } else if (idDoc !== undefined) {
    const index = blindIndex('id_doc_number', idDoc.number)
    changes.idDocType = idDoc.type
    if (index !== person?.idDocIndex || !person.idDocCiphertext) {
      changes.idDocCiphertext = encryptPii('id_doc_number', idDoc.number)
      changes.idDocIndex = index
      changes.idDocMasked = maskIdNumber(idDoc.number)
    }
  }
  return { ok: true, plan: { creating, changes, unit, tags, reason } }
}

/** The history entry and audit event of a save that changed something, or null. */
function changeRecord(
  person: Person,
  plan: SavePlan,
  before: PersonSnapshot | null,
  after: PersonSnapshot
): { changes: FieldChanges; kind: 'created' | 'updated'; event: AuditEvent } | null {
  const changes = diffSnapshots(before, after)
  if (!plan.creating && Object.keys(changes).length === 0) return null
  const statusChanged = !plan.creating && 'status' in changes
  const sides = auditSides(changes)
  return {
    changes,
    kind: plan.creating ? 'created' : 'updated',
    event: {
      action: plan.creating ? 'people.created' : 'people.updated',
      subjectType: 'person',
      subjectId: person.publicId,
      before: plan.creating ? null : sides.before,
      after: sides.after,
      meta: statusChanged ? { reason: plan.reason } : undefined,
    },
  }
}

/**
 * Creates or updates one person under the rules of `planPersonSave`. The
 * audit entry and the person's history hold masked values only. Pass `trx`
 * to join a larger transaction.
 */
export class SavePerson {
  async handle(
    input: PersonInput,
    mode: SaveMode,
    actor: AuditActor,
    trx?: TransactionClientContract
  ): Promise<Result<SavedPerson, SavePersonError>> {
    let outcome: SaveOutcome | undefined
    try {
      outcome = trx
        ? await this.save(trx, input, mode, actor)
        : await db.transaction((own) => this.save(own, input, mode, actor))
    } catch (error) {
      await removePersonPhoto(this.pendingPhoto)
      throw error
    }
    if (!outcome.result.ok) {
      await removePersonPhoto(outcome.storedPhoto)
      return outcome.result
    }
    // The old file goes once the new row is committed; inside a caller's
    // transaction it stays, an orphan file being harmless and a missing one not.
    if (!trx) await removePersonPhoto(outcome.replacedPhoto)
    return outcome.result
  }

  /** A photo copied in by a save that has not finished, removed if the save throws. */
  private pendingPhoto: string | null = null

  private async save(
    trx: TransactionClientContract,
    input: PersonInput,
    mode: SaveMode,
    actor: AuditActor
  ): Promise<SaveOutcome> {
    const refuse = (result: Result<SavedPerson, SavePersonError>): SaveOutcome => ({
      result,
      storedPhoto: null,
      replacedPhoto: null,
    })

    const personNo = input.personNo?.trim().toUpperCase()
    let person: Person | null = null
    if (mode.mode === 'update') {
      person = await Person.query({ client: trx })
        .where('public_id', mode.publicId.toUpperCase())
        .forUpdate()
        .first()
      if (!person) return refuse(fail('not_found'))
    } else if (mode.mode === 'upsert' && personNo) {
      person = await Person.query({ client: trx }).where('person_no', personNo).forUpdate().first()
    }
    let numberTaken = false
    if (personNo !== undefined && PERSON_NO.test(personNo)) {
      const holder = await Person.query({ client: trx }).where('person_no', personNo).first()
      numberTaken = holder !== null && holder.id !== person?.id
    }
    const unit = input.orgUnit === undefined ? undefined : await findOrgUnit(input.orgUnit, trx)
    const planned = planPersonSave(input, { person, numberTaken, unit })
    if (!planned.ok) return refuse(fail('invalid', { errors: planned.errors }))
    const { plan } = planned

    // Only now touch the file system: a refused save leaves nothing behind.
    let storedPhoto: string | null = null
    if (input.photo) {
      const stored = await storePersonPhoto(input.photo.sourcePath)
      if (!stored.ok)
        return refuse(fail('invalid', { errors: [{ field: 'photo', code: stored.error }] }))
      storedPhoto = stored.value
      this.pendingPhoto = storedPhoto
    }

    const previousUnit = person ? await findOrgUnit({ id: person.orgUnitId }, trx) : null
    const previousTags = person ? await tagNamesOf(trx, person.id) : []
    const before =
      person && previousUnit ? personSnapshot(person, previousUnit, previousTags) : null
    const replacedPhoto = person?.photoPath ?? null

    const target = person ?? new Person()
    target.useTransaction(trx)
    target.merge(plan.changes)
    if (storedPhoto) target.photoPath = storedPhoto
    else if (input.photo === null) target.photoPath = null
    await target.save()
    if (plan.tags !== undefined) await replaceTags(trx, target.id, plan.tags)

    const after = personSnapshot(target, plan.unit ?? previousUnit!, plan.tags ?? previousTags)
    const record = changeRecord(target, plan, before, after)
    if (record) {
      await recordPersonChange(
        trx,
        target,
        record.kind,
        record.changes,
        actor,
        record.event.meta ? plan.reason : null
      )
      await recordAudit(actor, record.event, trx)
    }
    return {
      result: ok({
        person: target,
        created: plan.creating,
        changed: Object.keys(record?.changes ?? {}),
      }),
      storedPhoto,
      replacedPhoto: storedPhoto || input.photo === null ? replacedPhoto : null,
    }
  }
}

async function tagNamesOf(trx: TransactionClientContract, personId: number): Promise<string[]> {
  const rows = await trx
    .from('person_tags')
    .join('tags', 'tags.id', 'person_tags.tag_id')
    .where('person_tags.person_id', personId)
    .select('tags.name')
  return rows.map((row) => row.name as string)
}

/** Makes the person's tags exactly `names`, creating tag rows that do not exist yet. */
async function replaceTags(trx: TransactionClientContract, personId: number, names: string[]) {
  const ids: number[] = []
  for (const name of names) {
    const tag = await Tag.firstOrCreate({ name }, {}, { client: trx })
    ids.push(tag.id)
  }
  await trx
    .from('person_tags')
    .where('person_id', personId)
    .if(ids.length > 0, (query) => query.whereNotIn('tag_id', ids))
    .delete()
  const kept = await trx.from('person_tags').where('person_id', personId).select('tag_id')
  const current = new Set(kept.map((row) => Number(row.tag_id)))
  const added = ids.filter((id) => !current.has(id))
  if (added.length) {
    await trx
      .table('person_tags')
      .multiInsert(added.map((tagId) => ({ person_id: personId, tag_id: tagId })))
  }
}

/** How one row of a batch ended. */
export type BatchOutcome =
  { ok: true; created: boolean; changed: string[] } | { ok: false; errors: FieldError[] }

/** Rows per multi-row INSERT: far below SQLite's limit of bound variables per statement. */
const INSERT_ROWS = 400

/** Splits a list into runs of at most `size`. */
function chunks<T>(list: T[], size: number): T[][] {
  const runs: T[][] = []
  for (let start = 0; start < list.length; start += size) runs.push(list.slice(start, start + size))
  return runs
}

/**
 * A model built from a database row without tying it to the transaction
 * that read it: Lucid keeps every model bound to a transaction referenced
 * until the transaction ends, which for an import of 50,000 rows in one
 * transaction would keep all 50,000 in memory.
 */
function detachedModel<Model extends typeof Person | typeof OrgUnit>(
  model: Model,
  row: Record<string, unknown>
): InstanceType<Model> {
  return model.$createFromAdapterResult(row) as InstanceType<Model>
}

/** The columns of `attributes` as Lucid would write them for `model`: names and prepared values. */
function adapterRow(
  model: Person,
  attributes: Record<string, unknown> = model.$attributes
): Record<string, unknown> {
  const row: Record<string, unknown> = {}
  for (const [attribute, value] of Object.entries(attributes)) {
    const column = Person.$getColumn(attribute)
    if (!column) continue
    row[column.columnName] = column.prepare ? column.prepare(value, attribute, model) : value
  }
  return row
}

/** A planned save of one row of a batch, with what it will write. */
interface BatchEntry {
  at: number
  plan: SavePlan
  target: Person
  record: ReturnType<typeof changeRecord>
  tagsChanged: boolean
}

/**
 * Saves many people at once, keyed by person number, under exactly the rules
 * of `planPersonSave`, with the same history entries and audit entries as
 * one save each. What differs is the number of round trips: the people of a
 * batch are read with one query, new people, their tags, history and audit
 * entries are written with multi-row inserts. Used by imports.
 *
 * One instance per transaction: it keeps the org units and tag ids it read.
 * Rows outside `scope` (the unit they are placed in, or the unit an
 * existing person is in) are refused with `org_unit_out_of_scope`.
 */
export class SavePeople {
  private unitsByCode: Map<string, OrgUnit> | null = null
  private unitsById = new Map<number, OrgUnit>()
  private tagIds = new Map<string, number>()

  constructor(
    private trx: TransactionClientContract,
    private actor: AuditActor,
    private options: { scope?: OrgScope } = {}
  ) {}

  /**
   * Upserts a batch of inputs whose person numbers are distinct. With
   * `write: false` the rows are only judged (a dry run). Returns one outcome
   * per input, in order; refused rows write nothing, the others are written
   * even if some rows were refused (the caller decides whether to commit).
   */
  async upsert(inputs: PersonInput[], options: { write: boolean }): Promise<BatchOutcome[]> {
    const trx = this.trx
    await this.loadUnits()
    const numbers = inputs.map((input) => input.personNo?.trim().toUpperCase())
    const wanted = [...new Set(numbers.filter((no): no is string => !!no && PERSON_NO.test(no)))]
    if (wanted.length !== numbers.filter((no) => no && PERSON_NO.test(no)).length) {
      throw new Error('SavePeople.upsert needs distinct person numbers')
    }
    const existing = new Map<string, Person>()
    for (const run of chunks(wanted, INSERT_ROWS)) {
      const query = trx.from('people').whereIn('person_no', run).select('*')
      for (const row of await (options.write ? query.forUpdate() : query)) {
        const person = detachedModel(Person, row)
        existing.set(person.personNo, person)
      }
    }
    const previousTags = await this.tagsOf([...existing.values()].map((person) => person.id))

    const outcomes: BatchOutcome[] = []
    const entries: BatchEntry[] = []
    for (const [at, input] of inputs.entries()) {
      if (input.photo !== undefined) throw new Error('SavePeople does not take photos')
      const person = (numbers[at] && existing.get(numbers[at]!)) || null
      const unit = input.orgUnit === undefined ? undefined : this.unit(input.orgUnit)
      const planned = planPersonSave(input, { person, numberTaken: false, unit })
      const errors = planned.ok ? [] : [...planned.errors]
      if (this.outsideScope(person, unit) && !errors.some((error) => error.field === 'orgUnit')) {
        errors.push({ field: 'orgUnit', code: 'org_unit_out_of_scope' })
      }
      if (!planned.ok || errors.length) {
        outcomes.push({ ok: false, errors })
        continue
      }
      const { plan } = planned
      const target = person ?? new Person()
      const tagsBefore = person ? (previousTags.get(person.id) ?? []) : []
      const before = person
        ? personSnapshot(person, this.unitsById.get(person.orgUnitId)!, tagsBefore)
        : null
      target.merge(plan.changes)
      if (!person) {
        await Person.$hooks.runner('before:create').run(target)
        await Person.$hooks.runner('before:save').run(target)
      }
      const tags = plan.tags ?? tagsBefore
      const after = personSnapshot(target, plan.unit ?? this.unitsById.get(target.orgUnitId)!, tags)
      const record = changeRecord(target, plan, before, after)
      const tagsChanged =
        plan.tags !== undefined &&
        (!person || JSON.stringify(after.tags) !== JSON.stringify(before!.tags))
      outcomes.push({
        ok: true,
        created: plan.creating,
        changed: Object.keys(record?.changes ?? {}),
      })
      if (record || tagsChanged) entries.push({ at, plan, target, record, tagsChanged })
    }
    if (options.write && entries.length) await this.write(entries)
    return outcomes
  }

  /** Writes the planned rows: inserts of new people, updates of changed ones, tags, history, audit. */
  private async write(entries: BatchEntry[]) {
    const trx = this.trx
    const now = DateTime.utc()
    const created = entries.filter((entry) => entry.plan.creating)
    for (const run of chunks(created, INSERT_ROWS)) {
      for (const { target } of run) {
        target.createdAt = now
        target.updatedAt = now
      }
      await trx.table('people').multiInsert(run.map(({ target }) => adapterRow(target)))
      const ids = await trx
        .from('people')
        .whereIn(
          'person_no',
          run.map(({ target }) => target.personNo)
        )
        .select('id', 'person_no')
      const idOf = new Map(ids.map((row) => [row.person_no as string, Number(row.id)]))
      for (const { target } of run) {
        target.id = idOf.get(target.personNo)!
        target.$hydrateOriginals()
        target.$isPersisted = true
      }
    }
    for (const { plan, target } of entries) {
      if (!plan.creating && target.$isDirty) await this.update(target, now)
    }

    const retagged = entries.filter((entry) => entry.tagsChanged)
    if (retagged.length) {
      const ids = await this.tagIdsOf(retagged.flatMap((entry) => entry.plan.tags!))
      const stale = retagged.filter((entry) => !entry.plan.creating).map((entry) => entry.target.id)
      for (const run of chunks(stale, INSERT_ROWS)) {
        await trx.from('person_tags').whereIn('person_id', run).delete()
      }
      const links = retagged.flatMap((entry) =>
        entry.plan.tags!.map((name) => ({ person_id: entry.target.id, tag_id: ids.get(name)! }))
      )
      for (const run of chunks(links, INSERT_ROWS)) await trx.table('person_tags').multiInsert(run)
    }

    const recorded = entries.filter((entry) => entry.record !== null)
    const time = now.toFormat(trx.dialect.dateTimeFormat)
    const history = recorded.map(({ target, record, plan }) => ({
      person_id: target.id,
      kind: record!.kind,
      changes: JSON.stringify(record!.changes),
      reason: record!.event.meta ? plan.reason : null,
      actor_type: this.actor.type,
      actor_id: this.actor.id ?? null,
      actor_name: this.actor.name ?? null,
      created_at: time,
    }))
    for (const run of chunks(history, INSERT_ROWS))
      await trx.table('person_changes').multiInsert(run)
    await recordAuditBatch(
      this.actor,
      recorded.map(({ record }) => record!.event),
      trx
    )
  }

  /** Writes the changed columns of a person as `save()` would, hooks included. */
  private async update(person: Person, now: DateTime) {
    await Person.$hooks.runner('before:update').run(person)
    await Person.$hooks.runner('before:save').run(person)
    person.updatedAt = now
    await this.trx.from('people').where('id', person.id).update(adapterRow(person, person.$dirty))
    person.$hydrateOriginals()
  }

  /** Every org unit, read once per instance: an import names a few hundred units at most. */
  private async loadUnits() {
    if (this.unitsByCode) return
    this.unitsByCode = new Map()
    for (const row of await this.trx.from('org_units').select('*')) {
      const unit = detachedModel(OrgUnit, row)
      this.unitsByCode.set(unit.code, unit)
      this.unitsById.set(unit.id, unit)
    }
  }

  private unit(ref: OrgUnitRef): OrgUnit | null {
    if ('id' in ref) return this.unitsById.get(ref.id) ?? null
    if ('code' in ref) return this.unitsByCode!.get(ref.code.trim()) ?? null
    const publicId = ref.publicId.toUpperCase()
    return [...this.unitsById.values()].find((unit) => unit.publicId === publicId) ?? null
  }

  /** True when the row places someone outside the scope, or changes someone who is outside it. */
  private outsideScope(person: Person | null, unit: OrgUnit | null | undefined): boolean {
    const scope = this.options.scope
    if (!scope) return false
    if (unit && !scopeIncludesPath(scope, unit.path)) return true
    const current = person ? this.unitsById.get(person.orgUnitId) : undefined
    return current !== undefined && !scopeIncludesPath(scope, current.path)
  }

  /** The tag names of each of these people. */
  private async tagsOf(personIds: number[]): Promise<Map<number, string[]>> {
    const tags = new Map<number, string[]>()
    for (const run of chunks(personIds, INSERT_ROWS)) {
      const rows = await this.trx
        .from('person_tags')
        .join('tags', 'tags.id', 'person_tags.tag_id')
        .whereIn('person_tags.person_id', run)
        .select('person_tags.person_id', 'tags.name')
      for (const row of rows) {
        const list = tags.get(Number(row.person_id)) ?? []
        list.push(row.name)
        tags.set(Number(row.person_id), list)
      }
    }
    return tags
  }

  /** The ids of these tag names, creating the tags that do not exist yet. */
  private async tagIdsOf(names: string[]): Promise<Map<string, number>> {
    const missing = () => [...new Set(names)].filter((name) => !this.tagIds.has(name))
    const read = async (list: string[]) => {
      for (const run of chunks(list, INSERT_ROWS)) {
        for (const row of await this.trx.from('tags').whereIn('name', run).select('id', 'name')) {
          this.tagIds.set(row.name, Number(row.id))
        }
      }
    }
    await read(missing())
    const absent = missing()
    if (absent.length) {
      const createdAt = DateTime.utc().toFormat(this.trx.dialect.dateTimeFormat)
      for (const run of chunks(absent, INSERT_ROWS)) {
        await this.trx
          .table('tags')
          .insert(run.map((name) => ({ name, created_at: createdAt })))
          .onConflict('name')
          .ignore()
      }
      await read(absent)
    }
    return this.tagIds
  }
}
