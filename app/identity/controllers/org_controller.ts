import type { HttpContext } from '@adonisjs/core/http'
import { errors as vineErrors } from '@vinejs/vine'
import { actorFrom } from '#core/http/actor'
import { NEVER_FLASHED } from '#core/http/flash'
import OrgUnit, { ORG_UNIT_KINDS } from '#identity/models/org_unit'
import OrgUnitChange from '#identity/models/org_unit_change'
import { CreateOrgUnit } from '#identity/actions/create_org_unit'
import { RenameOrgUnit } from '#identity/actions/rename_org_unit'
import { MoveOrgUnit } from '#identity/actions/move_org_unit'
import { DisableOrgUnit } from '#identity/actions/disable_org_unit'
import { EnableOrgUnit } from '#identity/actions/enable_org_unit'
import { loadOrgTree, orgUnitLineage } from '#identity/services/org_tree'
import { presentChange } from '#identity/services/history_view'
import {
  disableOrgUnitValidator,
  moveOrgUnitValidator,
  newOrgUnitValidator,
  orgUnitParamsValidator,
  renameOrgUnitValidator,
} from '#identity/validators/org'
import { withoutBlankFilters } from '#identity/validators/people'
import { scopeFor } from '#identity/services/admin_access'
import { orgTreeInScope, scopeIncludesPath } from '#identity/services/org_scope'
import { unitsInScope } from '#identity/controllers/people_controller'
import OrgUnitPolicy from '#identity/policies/org_unit_policy'

/** The form field each refusal belongs to. */
const ERROR_FIELDS: Record<string, string> = {
  parent_not_found: 'parent',
  parent_disabled: 'parent',
  too_deep: 'parent',
  invalid_kind: 'kind',
  code_format: 'unitCode',
  code_taken: 'unitCode',
  name_length: 'unitName',
  unchanged: 'unitName',
  into_own_subtree: 'newParent',
}

async function unitFromParams(params: Record<string, unknown>) {
  const [error, input] = await orgUnitParamsValidator.tryValidate(params)
  if (error) return null
  return OrgUnit.findBy('public_id', input.publicId)
}

function notFound({ response, view }: HttpContext) {
  response.status(404)
  return view.render('pages/errors/status', { status: 404 })
}

/** Back to a form with the refusal as an inline error and a flash message. */
function refuse(ctx: HttpContext, back: string, code: string) {
  const message = ctx.i18n.t(`identity.org.errors.${code}`)
  ctx.session.flashExcept(NEVER_FLASHED)
  ctx.session.flash('inputErrorsBag', { [ERROR_FIELDS[code] ?? 'unitName']: [message] })
  ctx.session.flash('error', message)
  return ctx.response.redirect(back)
}

/** Validates with messages in the reader's language; on failure flashes inline errors and returns null. */
async function validated<T>(
  ctx: HttpContext,
  validator: { tryValidate: (data: unknown, options: any) => Promise<[unknown, T | null]> }
): Promise<T | null> {
  const [error, data] = await validator.tryValidate(withoutBlankFilters(ctx.request.all()), {
    messagesProvider: ctx.i18n.createMessagesProvider(),
  })
  if (error instanceof vineErrors.E_VALIDATION_ERROR) {
    ctx.session.flashValidationErrors(error, false)
    ctx.session.flashExcept(NEVER_FLASHED)
    return null
  }
  if (error) throw error
  return data
}

function unitOptions(units: OrgUnit[]) {
  return units.map((unit) => ({
    value: unit.publicId,
    label: `${'\u3000'.repeat(unit.depth)}${unit.name}`,
  }))
}

export default class OrgController {
  /** The organization tree with the number of people in each unit and below it. */
  async index({ view, bouncer, auth }: HttpContext) {
    await bouncer.authorize('permit', 'people.read')
    const scope = await scopeFor(auth.getUserOrFail(), 'people.read')
    const roots = orgTreeInScope(await loadOrgTree(), scope)
    return view.render('pages/identity/org/index', { roots })
  }

  /** One unit: where it sits, what is below it, its history and the forms to change it. */
  async show(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'people.read')
    const unit = await unitFromParams(ctx.params)
    if (!unit) return notFound(ctx)
    const policy = ctx.bouncer.with(OrgUnitPolicy)
    await policy.authorize('view', unit)
    const t = ctx.i18n.t.bind(ctx.i18n)
    const user = ctx.auth.getUserOrFail()
    const readScope = await scopeFor(user, 'people.read')
    const writable = await unitsInScope(await scopeFor(user, 'org.write'))
    const lineage = await orgUnitLineage(unit)
    const history = await OrgUnitChange.query()
      .where('org_unit_id', unit.id)
      .orderBy('id', 'desc')
      .limit(200)
    return ctx.view.render('pages/identity/org/show', {
      unit,
      lineage,
      // Units above the account's part of the tree are named, not linked.
      openable: lineage
        .filter((node) => scopeIncludesPath(readScope, node.path))
        .map((node) => node.publicId),
      children: await OrgUnit.query()
        .where('parent_id', unit.id)
        .orderBy('sort_order')
        .orderBy('id'),
      may: {
        change: await policy.allows('change', unit),
        addChild: await policy.allows('createUnder', unit),
      },
      // Enabled units outside its own subtree, where the account may write: where it may move.
      moveOptions: unitOptions(
        writable.filter(
          (other) =>
            !other.path.startsWith(unit.path) && !other.disabledAt && other.id !== unit.parentId
        )
      ),
      history: history.map((change) => presentChange(change, t)),
    })
  }

  /** The form for a new unit, under the parent named in ?parent=. */
  async create(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'org.write')
    const writable = await unitsInScope(await scopeFor(ctx.auth.getUserOrFail(), 'org.write'))
    const t = ctx.i18n.t.bind(ctx.i18n)
    return ctx.view.render('pages/identity/org/new', {
      parent: String(ctx.request.qs().parent ?? ''),
      parentOptions: unitOptions(writable.filter((unit) => !unit.disabledAt)),
      topLevel: await ctx.bouncer.with(OrgUnitPolicy).allows('createUnder', null),
      kindOptions: ORG_UNIT_KINDS.map((value) => ({
        value,
        label: t(`identity.org.kinds.${value}`),
      })),
    })
  }

  async store(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'org.write')
    const parent = String(ctx.request.input('parent') ?? '')
    const back = `/console/org/new?parent=${encodeURIComponent(parent)}`
    const data = await validated(ctx, newOrgUnitValidator)
    if (!data) return ctx.response.redirect(back)
    // An unknown parent is left to CreateOrgUnit, which answers it as a field error.
    const parentUnit = data.parent ? await OrgUnit.findBy('public_id', data.parent) : null
    if (parentUnit || !data.parent) {
      await ctx.bouncer.with(OrgUnitPolicy).authorize('createUnder', parentUnit)
    }
    const result = await new CreateOrgUnit().handle(
      {
        parent: data.parent ? { publicId: data.parent } : null,
        kind: data.kind,
        code: data.unitCode,
        name: data.unitName,
        sortOrder: data.sortOrder,
      },
      actorFrom(ctx)
    )
    if (!result.ok) return refuse(ctx, back, result.error)
    ctx.session.flash('notice', ctx.i18n.t('identity.org.created'))
    return ctx.response.redirect(`/console/org/${result.value.publicId}`)
  }

  async rename(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'org.write')
    const unit = await unitFromParams(ctx.params)
    if (!unit) return notFound(ctx)
    await ctx.bouncer.with(OrgUnitPolicy).authorize('change', unit)
    const back = `/console/org/${unit.publicId}`
    const data = await validated(ctx, renameOrgUnitValidator)
    if (!data) return ctx.response.redirect(back)
    const result = await new RenameOrgUnit().handle(
      { unit: { id: unit.id }, name: data.unitName, code: data.unitCode },
      actorFrom(ctx)
    )
    if (!result.ok) return refuse(ctx, back, result.error)
    ctx.session.flash('notice', ctx.i18n.t('identity.org.renamed'))
    return ctx.response.redirect(back)
  }

  async move(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'org.write')
    const unit = await unitFromParams(ctx.params)
    if (!unit) return notFound(ctx)
    const policy = ctx.bouncer.with(OrgUnitPolicy)
    await policy.authorize('change', unit)
    const back = `/console/org/${unit.publicId}`
    const data = await validated(ctx, moveOrgUnitValidator)
    if (!data) return ctx.response.redirect(back)
    // An unknown parent is left to MoveOrgUnit, which answers it as a field error.
    const newParent = await OrgUnit.findBy('public_id', data.newParent)
    if (newParent) await policy.authorize('moveUnder', unit, newParent)
    const result = await new MoveOrgUnit().handle(
      { unit: { id: unit.id }, newParent: { publicId: data.newParent } },
      actorFrom(ctx)
    )
    if (!result.ok) return refuse(ctx, back, result.error)
    ctx.session.flash('notice', ctx.i18n.t('identity.org.moved'))
    return ctx.response.redirect(back)
  }

  async disable(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'org.write')
    const unit = await unitFromParams(ctx.params)
    if (!unit) return notFound(ctx)
    await ctx.bouncer.with(OrgUnitPolicy).authorize('change', unit)
    const back = `/console/org/${unit.publicId}`
    const data = await validated(ctx, disableOrgUnitValidator)
    if (!data) return ctx.response.redirect(back)
    const result = await new DisableOrgUnit().handle(
      { id: unit.id },
      actorFrom(ctx),
      data.reason ?? null
    )
    if (!result.ok) return refuse(ctx, back, result.error)
    ctx.session.flash(
      'notice',
      ctx.i18n.t('identity.org.disabled_done', { count: result.value.disabledUnits })
    )
    return ctx.response.redirect(back)
  }

  async enable(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'org.write')
    const unit = await unitFromParams(ctx.params)
    if (!unit) return notFound(ctx)
    await ctx.bouncer.with(OrgUnitPolicy).authorize('change', unit)
    const back = `/console/org/${unit.publicId}`
    const result = await new EnableOrgUnit().handle({ id: unit.id }, actorFrom(ctx))
    if (!result.ok) return refuse(ctx, back, result.error)
    ctx.session.flash('notice', ctx.i18n.t('identity.org.enabled_done'))
    return ctx.response.redirect(back)
  }
}
