import type { HttpContext } from '@adonisjs/core/http'
import { pagerView } from '#core/http/pagination'
import Person, { IDENTITY_TYPES, PERSON_STATUSES } from '#identity/models/person'
import { flattenOrgTree, loadOrgTree, orgUnitLineage } from '#identity/services/org_tree'
import { PEOPLE_PER_PAGE, searchPeople } from '#identity/services/people_directory'
import {
  peopleFiltersValidator,
  personParamsValidator,
  withoutBlankFilters,
} from '#identity/validators/people'

export default class PeopleController {
  /** The people registry: search, filters and 50 people a page. */
  async index({ request, response, view, bouncer, i18n, session }: HttpContext) {
    await bouncer.authorize('permit', 'people.read')
    const [error, input] = await peopleFiltersValidator.tryValidate(
      withoutBlankFilters(request.qs())
    )
    if (error) {
      session.flash('error', i18n.t('identity.people.invalid_filters'))
      return response.redirect('/console/people')
    }
    const { page = 1, type, ...rest } = input
    const paginator = await searchPeople({ ...rest, identityType: type }, page, PEOPLE_PER_PAGE)
    const units = flattenOrgTree(await loadOrgTree())
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
      unitOptions: units.map(({ unit }) => ({
        value: unit.publicId,
        label: `${'\u3000'.repeat(unit.depth)}${unit.name}`,
      })),
    })
  }

  /** One person with the chain of org units they belong to. */
  async show({ params, response, view, bouncer }: HttpContext) {
    await bouncer.authorize('permit', 'people.read')
    const [error, input] = await personParamsValidator.tryValidate(params)
    const person = error
      ? null
      : await Person.query().where('public_id', input.publicId).preload('orgUnit').first()
    if (!person) {
      response.status(404)
      return view.render('pages/errors/status', { status: 404 })
    }
    return view.render('pages/identity/people/show', {
      person,
      lineage: await orgUnitLineage(person.orgUnit),
    })
  }
}
