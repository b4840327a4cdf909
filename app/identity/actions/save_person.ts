import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import type OrgUnit from '#identity/models/org_unit'
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
} from '#identity/services/person_history'
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

/**
 * Creates or updates one person, checking every rule the registry has:
 * unique person number, a known and enabled org unit, a GB 11643 valid
 * resident ID, a plausible phone number, a real graduation date, tags, and
 * the allowed status transitions. Phone and ID numbers are stored encrypted
 * with a blind index and a masked copy; the audit entry and the person's
 * history hold masked values only. Pass `trx` to join a larger transaction
 * (an import that writes all rows or none).
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
    const creating = person === null

    const errors: FieldError[] = []
    const refuseField = (field: PersonField, code: string) => errors.push({ field, code })

    // Required on create; on update only checked when given.
    if (personNo !== undefined) {
      if (!PERSON_NO.test(personNo)) refuseField('personNo', 'person_no_format')
      else {
        const holder = await Person.query({ client: trx }).where('person_no', personNo).first()
        if (holder && holder.id !== person?.id) refuseField('personNo', 'person_no_taken')
      }
    } else if (creating) refuseField('personNo', 'required')

    const name = input.name?.replace(/\s+/g, ' ').trim()
    if (name !== undefined) {
      if (name.length === 0 || [...name].length > 64) refuseField('name', 'name_length')
    } else if (creating) refuseField('name', 'required')

    if (input.gender !== undefined && !GENDERS.includes(input.gender)) {
      refuseField('gender', 'invalid_choice')
    }
    if (input.identityType !== undefined) {
      if (!IDENTITY_TYPES.includes(input.identityType))
        refuseField('identityType', 'invalid_choice')
    } else if (creating) refuseField('identityType', 'required')

    let unit: OrgUnit | null = null
    if (input.orgUnit !== undefined) {
      unit = await findOrgUnit(input.orgUnit, trx)
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
          input.enrollmentYear !== undefined
            ? input.enrollmentYear
            : (person?.enrollmentYear ?? null)
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
        if (!canChangeStatus(person.status, input.status))
          refuseField('status', 'status_transition')
        else if (!reason) refuseField('statusReason', 'reason_required')
      }
    }
    if (reason && reason.length > MAX_REASON_LENGTH) refuseField('statusReason', 'reason_length')

    if (errors.length) return refuse(fail('invalid', { errors }))

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
    const previousTags = person ? await this.tagNames(trx, person.id) : []
    const before =
      person && previousUnit ? personSnapshot(person, previousUnit, previousTags) : null
    const replacedPhoto = person?.photoPath ?? null

    const target = person ?? new Person()
    target.useTransaction(trx)
    if (personNo !== undefined) target.personNo = personNo
    if (name !== undefined) target.name = name
    if (input.gender !== undefined) target.gender = input.gender
    else if (creating) target.gender = 'unknown'
    if (input.identityType !== undefined) target.identityType = input.identityType
    if (unit) target.orgUnitId = unit.id
    if (input.enrollmentYear !== undefined) target.enrollmentYear = input.enrollmentYear
    if (graduation !== undefined) target.expectedGraduationDate = graduation
    if (email !== undefined) target.email = email
    if (input.status !== undefined) target.status = input.status
    else if (creating) target.status = 'active'
    if (phone !== undefined) {
      target.phoneCiphertext = phone === null ? null : encryptPii('phone', phone)
      target.phoneIndex = phone === null ? null : blindIndex('phone', phone)
      target.phoneMasked = phone === null ? null : maskPhone(phone)
    }
    if (idDoc !== undefined) {
      target.idDocType = idDoc?.type ?? null
      target.idDocCiphertext = idDoc === null ? null : encryptPii('id_doc_number', idDoc.number)
      target.idDocIndex = idDoc === null ? null : blindIndex('id_doc_number', idDoc.number)
      target.idDocMasked = idDoc === null ? null : maskIdNumber(idDoc.number)
    }
    if (storedPhoto) target.photoPath = storedPhoto
    else if (input.photo === null) target.photoPath = null
    await target.save()
    if (tags !== undefined) await this.replaceTags(trx, target.id, tags)

    const finalUnit = unit ?? previousUnit!
    const after = personSnapshot(target, finalUnit, tags ?? previousTags)
    const changes = diffSnapshots(before, after)
    // Re-entering the same phone or ID number encrypts it anew but changes nothing.
    const changed = Object.keys(changes)
    if (creating || changed.length > 0) {
      const statusChanged = !creating && 'status' in changes
      await recordPersonChange(
        trx,
        target,
        creating ? 'created' : 'updated',
        changes,
        actor,
        statusChanged ? reason : null
      )
      const sides = auditSides(changes)
      await recordAudit(
        actor,
        {
          action: creating ? 'people.created' : 'people.updated',
          subjectType: 'person',
          subjectId: target.publicId,
          before: creating ? null : sides.before,
          after: sides.after,
          meta: statusChanged ? { reason } : undefined,
        },
        trx
      )
    }
    return {
      result: ok({ person: target, created: creating, changed }),
      storedPhoto,
      replacedPhoto: storedPhoto || input.photo === null ? replacedPhoto : null,
    }
  }

  private async tagNames(trx: TransactionClientContract, personId: number): Promise<string[]> {
    const rows = await trx
      .from('person_tags')
      .join('tags', 'tags.id', 'person_tags.tag_id')
      .where('person_tags.person_id', personId)
      .select('tags.name')
    return rows.map((row) => row.name as string)
  }

  /** Makes the person's tags exactly `names`, creating tag rows that do not exist yet. */
  private async replaceTags(trx: TransactionClientContract, personId: number, names: string[]) {
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
}
