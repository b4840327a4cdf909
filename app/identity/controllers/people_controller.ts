import type { HttpContext } from '@adonisjs/core/http'
import { errors as vineErrors } from '@vinejs/vine'
import { pagerView } from '#core/http/pagination'
import { actorFrom } from '#core/http/actor'
import { NEVER_FLASHED } from '#core/http/flash'
import Person, { GENDERS, IDENTITY_TYPES, PERSON_STATUSES } from '#identity/models/person'
import OrgUnit from '#identity/models/org_unit'
import PersonChange from '#identity/models/person_change'
import { fieldErrorsOf, SavePerson, type PersonInput } from '#identity/actions/save_person'
import { flattenOrgTree, loadOrgTree, orgUnitLineage } from '#identity/services/org_tree'
import { PEOPLE_PER_PAGE, searchPeople } from '#identity/services/people_directory'
import { ID_DOC_TYPES, splitTags } from '#identity/services/person_rules'
import { STATUS_TRANSITIONS } from '#identity/services/person_status'
import { presentChange } from '#identity/services/history_view'
import { scopeFor } from '#identity/services/admin_access'
import { orgTreeInScope, type OrgScope } from '#identity/services/org_scope'
import PersonPolicy from '#identity/policies/person_policy'
import {
  peopleFiltersValidator,
  personFormValidator,
  personParamsValidator,
  withoutBlankFilters,
} from '#identity/validators/people'

/**
 * Phone and ID numbers are never kept in the session to refill a form: the
 * sessions table would then hold them in clear.
 */
const NEVER_FLASHED_PEOPLE = [...NEVER_FLASHED, 'phone', 'idDocNumber']

/** Loads a person by the public id in the URL, or null. */
export async function personFromParams(params: Record<string, unknown>) {
  const [error, input] = await personParamsValidator.tryValidate(params)
  if (error) return null
  return Person.query()
    .where('public_id', input.publicId)
    .preload('orgUnit')
    .preload('tags')
    .first()
}

/**
 * The units inside the account's scope for a permission, in display order:
 * the choices of a unit filter or a unit field.
 */
export async function unitsInScope(scope: OrgScope): Promise<OrgUnit[]> {
  return flattenOrgTree(orgTreeInScope(await loadOrgTree(), scope)).map(({ unit }) => unit)
}

/** The data the person page needs, shared with the reveal answer. */
export async function personPageData(ctx: HttpContext, person: Person) {
  const t = ctx.i18n.t.bind(ctx.i18n)
  const policy = ctx.bouncer.with(PersonPolicy)
  const history = await PersonChange.query()
    .where('person_id', person.id)
    .orderBy('id', 'desc')
    .limit(200)
  return {
    person,
    lineage: await orgUnitLineage(person.orgUnit),
    history: history.map((change) => presentChange(change, t)),
    statusOptions: STATUS_TRANSITIONS[person.status].map((value) => ({
      value,
      label: t(`identity.statuses.${value}`),
    })),
    may: {
      edit: await policy.allows('edit', person),
      revealPii: await policy.allows('revealPii', person),
    },
  }
}

export default class PeopleController {
  /** The people registry: search, filters and 50 people a page. */
  async index({ request, response, view, bouncer, i18n, session, auth }: HttpContext) {
    await bouncer.authorize('permit', 'people.read')
    const scope = await scopeFor(auth.getUserOrFail(), 'people.read')
    const [error, input] = await peopleFiltersValidator.tryValidate(
      withoutBlankFilters(request.qs())
    )
    if (error) {
      session.flash('error', i18n.t('identity.people.invalid_filters'))
      return response.redirect('/console/people')
    }
    const { page = 1, type, ...rest } = input
    const paginator = await searchPeople(
      { ...rest, identityType: type, scope },
      page,
      PEOPLE_PER_PAGE
    )
    const units = await unitsInScope(scope)
    const filters = { ...rest, type }
    return view.render('pages/identity/people/index', {
      people: paginator.all(),
      pager: pagerView(paginator, '/console/people', filters),
      filters,
      typeOptions: IDENTITY_TYPES.map((value) => ({
        value,
        label: i18n.t(`identity.identity_types.${value}`),
      })),
      statusOptions: PERSON_STATUSES.map((value) => ({
        value,
        label: i18n.t(`identity.statuses.${value}`),
      })),
      unitOptions: units.map((unit) => ({
        value: unit.publicId,
        label: `${'\u3000'.repeat(unit.depth)}${unit.name}`,
      })),
    })
  }

  /** One person with the units above them, their history and masked personal data. */
  async show(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'people.read')
    const person = await personFromParams(ctx.params)
    if (!person) return notFound(ctx)
    await ctx.bouncer.with(PersonPolicy).authorize('view', person)
    return ctx.view.render('pages/identity/people/show', await personPageData(ctx, person))
  }

  /** The empty person form. */
  async create(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'people.write')
    return ctx.view.render('pages/identity/people/form', await formOptions(ctx, null))
  }

  async store(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'people.write')
    return save(ctx, null)
  }

  /** The form filled with the person's data; phone and ID number stay masked. */
  async edit(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'people.write')
    const person = await personFromParams(ctx.params)
    if (!person) return notFound(ctx)
    await ctx.bouncer.with(PersonPolicy).authorize('edit', person)
    return ctx.view.render('pages/identity/people/form', await formOptions(ctx, person))
  }

  async update(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'people.write')
    const person = await personFromParams(ctx.params)
    if (!person) return notFound(ctx)
    await ctx.bouncer.with(PersonPolicy).authorize('edit', person)
    return save(ctx, person)
  }
}

async function notFound({ response, view }: HttpContext) {
  response.status(404)
  return view.render('pages/errors/status', { status: 404 })
}

async function formOptions({ i18n, auth }: HttpContext, person: Person | null) {
  const t = i18n.t.bind(i18n)
  const scope = await scopeFor(auth.getUserOrFail(), 'people.write')
  const inScope = await unitsInScope(scope)
  const units = inScope.filter((unit) => !unit.disabledAt || unit.id === person?.orgUnitId)
  return {
    person,
    values: person
      ? {
          personNo: person.personNo,
          name: person.name,
          gender: person.gender,
          identityType: person.identityType,
          orgUnit: person.orgUnit.publicId,
          enrollmentYear: person.enrollmentYear ?? '',
          expectedGraduationDate: person.expectedGraduationDate?.toISODate() ?? '',
          email: person.email ?? '',
          idDocType: person.idDocType ?? '',
          tags: person.tags.map((tag) => tag.name).join(', '),
        }
      : { gender: 'unknown', identityType: 'undergraduate', status: 'active' },
    genderOptions: GENDERS.map((value) => ({ value, label: t(`identity.genders.${value}`) })),
    typeOptions: IDENTITY_TYPES.map((value) => ({
      value,
      label: t(`identity.identity_types.${value}`),
    })),
    statusOptions: PERSON_STATUSES.map((value) => ({
      value,
      label: t(`identity.statuses.${value}`),
    })),
    idDocTypeOptions: [
      { value: '', label: t('identity.people.form.no_id_doc') },
      ...ID_DOC_TYPES.map((value) => ({ value, label: t(`identity.id_doc_types.${value}`) })),
    ],
    unitOptions: [
      { value: '', label: t('identity.people.form.choose_unit') },
      ...units.map((unit) => ({
        value: unit.publicId,
        label: `${'\u3000'.repeat(unit.depth)}${unit.name}`,
      })),
    ],
  }
}

/** Back to the form with inline errors; the entered values, except phone and ID number, refill it. */
function backWithErrors(
  { session, response, i18n }: HttpContext,
  back: string,
  bag: Record<string, string[]>
) {
  session.flashExcept(NEVER_FLASHED_PEOPLE)
  session.flash('inputErrorsBag', bag)
  session.flash('error', i18n.t('identity.people.not_saved'))
  return response.redirect(back)
}

/**
 * Validates the form, hands it to SavePerson and maps its field errors to
 * inline messages in the reader's language. The form posts everything, so
 * an empty field clears the value, except phone and ID number on edit,
 * which the form never shows: empty keeps them, a checkbox clears them.
 */
async function save(ctx: HttpContext, person: Person | null) {
  const { request, response, session, i18n } = ctx
  const back = person ? `/console/people/${person.publicId}/edit` : '/console/people/new'
  const [error, data] = await personFormValidator.tryValidate(withoutBlankFilters(request.all()), {
    messagesProvider: i18n.createMessagesProvider(),
  })
  const photo = request.file('photo', { size: '2mb', extnames: ['jpg', 'jpeg', 'png', 'webp'] })
  const photoProblem =
    photo && !photo.isValid
      ? photo.errors.some((problem) => problem.type === 'size')
        ? 'photo_too_large'
        : 'photo_not_image'
      : null
  if (error || photoProblem) {
    const bag: Record<string, string[]> = {}
    if (error instanceof vineErrors.E_VALIDATION_ERROR) {
      for (const message of error.messages as { field: string; message: string }[]) {
        ;(bag[message.field] ??= []).push(message.message)
      }
    }
    if (photoProblem) bag.photo = [i18n.t(`identity.people.errors.${photoProblem}`)]
    return backWithErrors(ctx, back, bag)
  }
  if (!data) throw error
  // Someone is only put where the account may write; an unknown unit is
  // left to SavePerson, which answers it as a field error.
  const target = await OrgUnit.findBy('public_id', data.orgUnit)
  if (target) await ctx.bouncer.with(PersonPolicy).authorize('placeIn', target)

  const input: PersonInput = {
    personNo: data.personNo,
    name: data.name,
    gender: data.gender,
    identityType: data.identityType,
    orgUnit: { publicId: data.orgUnit },
    enrollmentYear: data.enrollmentYear ?? null,
    expectedGraduationDate: data.expectedGraduationDate ?? null,
    email: data.email ?? null,
    tags: splitTags(data.tags),
  }
  const body = request.all()
  if (!person) {
    input.status = data.status ?? 'active'
    input.phone = data.phone ?? null
    input.idDocType = data.idDocType ?? null
    input.idDocNumber = data.idDocNumber ?? null
  } else {
    if (body.clearPhone) input.phone = null
    else if (data.phone) input.phone = data.phone
    if (body.clearIdDoc) {
      input.idDocType = null
      input.idDocNumber = null
    } else if (data.idDocNumber) {
      input.idDocType = data.idDocType ?? null
      input.idDocNumber = data.idDocNumber
    } else if (data.idDocType) input.idDocType = data.idDocType
  }
  if (photo?.tmpPath) input.photo = { sourcePath: photo.tmpPath }
  else if (person && data.removePhoto) input.photo = null

  const result = await new SavePerson().handle(
    input,
    person ? { mode: 'update', publicId: person.publicId } : { mode: 'create' },
    actorFrom(ctx)
  )
  if (!result.ok) {
    if (result.error === 'not_found') return notFound(ctx)
    const bag: Record<string, string[]> = {}
    for (const { field, code } of fieldErrorsOf(result)) {
      ;(bag[field] ??= []).push(i18n.t(`identity.people.errors.${code}`))
    }
    return backWithErrors(ctx, back, bag)
  }
  const saved = result.value
  session.flash(
    'notice',
    i18n.t(
      saved.created
        ? 'identity.people.created'
        : saved.changed.length
          ? 'identity.people.updated'
          : 'identity.people.unchanged'
    )
  )
  return response.redirect(`/console/people/${saved.person.publicId}`)
}
