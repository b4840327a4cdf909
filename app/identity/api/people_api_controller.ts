import type { HttpContext } from '@adonisjs/core/http'
import { sendApiError, type ApiErrorDetail } from '#core/http/api_errors'
import { ChangePersonStatus } from '#identity/actions/change_person_status'
import {
  fieldErrorsOf,
  SavePerson,
  type PersonInput,
  type SaveMode,
} from '#identity/actions/save_person'
import OrgUnit from '#identity/models/org_unit'
import Person, {
  IDENTITY_TYPES,
  PERSON_STATUSES,
  type IdentityType,
  type PersonStatus,
} from '#identity/models/person'
import { searchPeople } from '#identity/services/people_directory'
import { apiActor, idempotentWrite, invalid, refused } from '#identity/api/api_http'
import { personJson } from '#identity/api/presenters'
import {
  apiPeopleQueryValidator,
  apiPersonValidator,
  apiStatusValidator,
} from '#identity/api/validators'

/** SavePerson's field names as the API spells them. */
const SNAKE: Record<string, string> = {
  personNo: 'person_no',
  identityType: 'identity_type',
  orgUnit: 'org_unit',
  enrollmentYear: 'enrollment_year',
  expectedGraduationDate: 'expected_graduation_date',
  idDocType: 'id_doc_type',
  idDocNumber: 'id_doc_number',
  statusReason: 'status_reason',
}

type PersonBody = Awaited<ReturnType<typeof apiPersonValidator.validate>>

function toInput(body: PersonBody): PersonInput {
  return {
    name: body.name,
    gender: body.gender as PersonInput['gender'],
    identityType: body.identity_type as PersonInput['identityType'],
    orgUnit: body.org_unit === undefined ? undefined : { code: body.org_unit },
    enrollmentYear: body.enrollment_year,
    expectedGraduationDate: body.expected_graduation_date,
    email: body.email,
    phone: body.phone,
    idDocType: body.id_doc_type as PersonInput['idDocType'],
    idDocNumber: body.id_doc_number,
    tags: body.tags,
    status: body.status as PersonInput['status'],
    statusReason: body.status_reason,
  }
}

async function loadPerson(personNo: string) {
  return Person.query()
    .where('person_no', personNo.trim().toUpperCase())
    .preload('orgUnit')
    .preload('tags')
    .first()
}

/** People in the registry, read and written by school systems. */
export default class PeopleApiController {
  /** GET /api/v1/people: one page of people matching the filters. */
  async index(ctx: HttpContext) {
    const query = await apiPeopleQueryValidator.validate(ctx.request.qs())
    const details: ApiErrorDetail[] = []
    if (query.identity_type && !IDENTITY_TYPES.includes(query.identity_type as IdentityType)) {
      details.push({ field: 'identity_type', code: 'invalid_choice' })
    }
    if (query.status && !PERSON_STATUSES.includes(query.status as PersonStatus)) {
      details.push({ field: 'status', code: 'invalid_choice' })
    }
    let unit: OrgUnit | null = null
    if (query.org_unit) {
      unit = await OrgUnit.findBy('code', query.org_unit)
      if (!unit) details.push({ field: 'org_unit', code: 'org_unit_unknown' })
    }
    if (details.length) {
      return sendApiError(ctx, 422, 'validation_failed', 'The query is not valid.', details)
    }
    const perPage = query.per_page ?? 50
    const page = await searchPeople(
      {
        q: query.q,
        identityType: query.identity_type as IdentityType | undefined,
        status: query.status as PersonStatus | undefined,
        unit: unit?.publicId,
      },
      query.page ?? 1,
      perPage
    )
    const people = page.all()
    if (people.length) {
      await Person.query()
        .whereIn(
          'id',
          people.map((person) => person.id)
        )
        .preload('tags')
        .then((tagged) => {
          const byId = new Map(tagged.map((person) => [person.id, person]))
          for (const person of people) person.$setRelated('tags', byId.get(person.id)!.tags)
        })
    }
    return {
      data: people.map(personJson),
      meta: {
        page: page.currentPage,
        per_page: perPage,
        total: page.total,
        last_page: page.lastPage,
      },
    }
  }

  /** GET /api/v1/people/:personNo */
  async show(ctx: HttpContext) {
    const person = await loadPerson(ctx.params.personNo)
    if (!person) return sendApiError(ctx, 404, 'not_found', 'No person has this person number.')
    return { data: personJson(person) }
  }

  /** PUT /api/v1/people/:personNo: creates the person or updates the fields given. */
  async upsert(ctx: HttpContext) {
    return this.save(ctx, 'upsert')
  }

  /** PATCH /api/v1/people/:personNo: updates the fields given of an existing person. */
  async update(ctx: HttpContext) {
    return this.save(ctx, 'update')
  }

  private async save(ctx: HttpContext, kind: 'upsert' | 'update') {
    const body = await apiPersonValidator.validate(ctx.request.body())
    const personNo = String(ctx.params.personNo).trim().toUpperCase()
    return idempotentWrite(ctx, ctx.request.body(), async () => {
      let mode: SaveMode = { mode: 'upsert' }
      if (kind === 'update') {
        const existing = await Person.findBy('person_no', personNo)
        if (!existing) return refused(404, 'not_found', 'No person has this person number.')
        mode = { mode: 'update', publicId: existing.publicId }
      }
      const input = toInput(body)
      if (kind === 'upsert') input.personNo = personNo
      const result = await new SavePerson().handle(input, mode, apiActor(ctx))
      if (!result.ok) {
        if (result.error === 'not_found') {
          return refused(404, 'not_found', 'No person has this person number.')
        }
        return invalid(
          fieldErrorsOf(result).map((error) => ({
            field: SNAKE[error.field] ?? error.field,
            code: error.code,
            message: ctx.i18n.t(`identity.people.errors.${error.code}`),
          }))
        )
      }
      const saved = (await loadPerson(personNo))!
      return {
        status: result.value.created ? 201 : 200,
        body: {
          data: personJson(saved),
          created: result.value.created,
          changed: result.value.changed,
        },
      }
    })
  }

  /** POST /api/v1/people/:personNo/status: a status change with its reason. */
  async status(ctx: HttpContext) {
    const body = await apiStatusValidator.validate(ctx.request.body())
    return idempotentWrite(ctx, ctx.request.body(), async () => {
      const person = await Person.findBy('person_no', String(ctx.params.personNo).toUpperCase())
      if (!person) return refused(404, 'not_found', 'No person has this person number.')
      const result = await new ChangePersonStatus().handle(
        {
          publicId: person.publicId,
          status: body.status as PersonStatus,
          reason: body.reason,
        },
        apiActor(ctx)
      )
      if (!result.ok) {
        switch (result.error) {
          case 'not_found':
            return refused(404, 'not_found', 'No person has this person number.')
          case 'same_status':
            return refused(409, 'same_status', 'The person already has this status.')
          case 'status_transition':
            return refused(409, 'status_transition', 'This status change is not allowed.')
          case 'invalid_status':
            return invalid([{ field: 'status', code: 'invalid_choice' }])
          default:
            return invalid([{ field: 'reason', code: result.error }])
        }
      }
      const saved = (await loadPerson(person.personNo))!
      return { status: 200, body: { data: personJson(saved) } }
    })
  }
}
