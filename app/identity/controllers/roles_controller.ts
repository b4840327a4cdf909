import type { HttpContext } from '@adonisjs/core/http'
import { actorFrom } from '#core/http/actor'
import { NEVER_FLASHED } from '#core/http/flash'
import {
  assignablePermissions,
  isOrgScoped,
  isPermission,
  type Permission,
} from '#core/services/permissions'
import Role from '#identity/models/role'
import { ensureBuiltInRoles, permissionAreas } from '#identity/services/roles'
import { SaveRole } from '#identity/actions/save_role'
import { DeleteRole } from '#identity/actions/delete_role'
import { withoutBlankFilters } from '#identity/validators/people'
import { publicIdParamsValidator, roleFormValidator } from '#identity/validators/admins'

type I18n = HttpContext['i18n']

/** The catalogue as the role form shows it: grouped by area, each with its label in the reader's language. */
function catalogue(i18n: I18n, granted: readonly Permission[]) {
  return permissionAreas(assignablePermissions()).map(({ area, permissions }) => ({
    area,
    label: i18n.t(`admins.areas.${area}`, {}, area),
    permissions: permissions.map((permission) => ({
      value: permission,
      label: i18n.t(`admins.permissions.${permission}`, {}, permission),
      scoped: isOrgScoped(permission),
      checked: granted.includes(permission),
    })),
  }))
}

/** How many grants use each role. */
async function grantCounts(): Promise<Map<number, number>> {
  const rows = await Role.query()
    .join('admin_grants', 'admin_grants.role_id', 'roles.id')
    .groupBy('roles.id')
    .select('roles.id')
    .count('admin_grants.id as total')
    .pojo<{ id: number; total: number | string }>()
  return new Map(rows.map((row) => [Number(row.id), Number(row.total)]))
}

/** The permissions ticked before a refused save, so that the form comes back as it was sent. */
function flashedPermissions(session: HttpContext['session']): Permission[] | null {
  if (!session.flashMessages.has('nameZh')) return null
  const value = session.flashMessages.get('permissions')
  return [value ?? []].flat().filter((name): name is Permission => isPermission(String(name)))
}

async function roleFromParams(params: Record<string, unknown>) {
  const [error, input] = await publicIdParamsValidator.tryValidate(params)
  if (error) return null
  return Role.findBy('public_id', input.publicId)
}

function notFound({ response, view }: HttpContext) {
  response.status(404)
  return view.render('pages/errors/status', { status: 404 })
}

/** The form's values: checkboxes send one value, several, or nothing. */
function formInput(request: HttpContext['request']) {
  return {
    ...withoutBlankFilters(request.only(['nameZh', 'nameEn', 'description'])),
    permissions: [request.input('permissions') ?? []].flat(),
  }
}

/** Built-in and custom roles, and the forms for the school's own. */
export default class RolesController {
  async index({ view, bouncer, i18n }: HttpContext) {
    await bouncer.authorize('permit', 'admins.manage')
    await ensureBuiltInRoles()
    const roles = await Role.query().orderBy('built_in', 'desc').orderBy('id')
    const counts = await grantCounts()
    return view.render('pages/identity/roles/index', {
      roles: roles.map((role) => ({
        role,
        name: role.name(i18n.locale),
        permissionCount: role.permissions.length,
        grantCount: counts.get(role.id) ?? 0,
      })),
    })
  }

  async create({ view, bouncer, i18n, session }: HttpContext) {
    await bouncer.authorize('permit', 'admins.manage')
    return view.render('pages/identity/roles/form', {
      role: null,
      areas: catalogue(i18n, flashedPermissions(session) ?? []),
      values: {},
    })
  }

  async store(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'admins.manage')
    return save(ctx, null)
  }

  /** A role's permissions: a form for a custom role, a read-only list for a built-in one. */
  async show(ctx: HttpContext) {
    const { view, bouncer, i18n } = ctx
    await bouncer.authorize('permit', 'admins.manage')
    const role = await roleFromParams(ctx.params)
    if (!role) return notFound(ctx)
    const counts = await grantCounts()
    return view.render('pages/identity/roles/form', {
      role,
      name: role.name(i18n.locale),
      description: role.builtIn
        ? i18n.t(`admins.built_in.${role.key}`, {}, '')
        : (role.description ?? ''),
      areas: catalogue(
        i18n,
        (!role.builtIn && flashedPermissions(ctx.session)) || role.permissions
      ),
      grantCount: counts.get(role.id) ?? 0,
      values: { nameZh: role.nameZh, nameEn: role.nameEn, description: role.description ?? '' },
    })
  }

  async update(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'admins.manage')
    const role = await roleFromParams(ctx.params)
    if (!role) return notFound(ctx)
    return save(ctx, role)
  }

  /** Deletes a custom role that no grant uses. */
  async destroy(ctx: HttpContext) {
    const { response, session, bouncer, i18n } = ctx
    await bouncer.authorize('permit', 'admins.manage')
    const role = await roleFromParams(ctx.params)
    if (!role) return notFound(ctx)
    const result = await new DeleteRole().handle(role.publicId, actorFrom(ctx))
    if (!result.ok) {
      if (result.error === 'not_found') return notFound(ctx)
      session.flash('error', i18n.t(`admins.errors.role_${result.error}`))
      return response.redirect(`/console/roles/${role.publicId}`)
    }
    session.flash('notice', i18n.t('admins.roles.deleted'))
    return response.redirect('/console/roles')
  }
}

/** Validates the role form, hands it to SaveRole and maps refusals to inline messages. */
async function save(ctx: HttpContext, role: Role | null) {
  const { request, response, session, i18n } = ctx
  const back = role ? `/console/roles/${role.publicId}` : '/console/roles/new'
  const fail = (field: string, message: string) => {
    session.flashExcept(NEVER_FLASHED)
    session.flash('inputErrorsBag', { [field]: [message] })
    session.flash('error', message)
    return response.redirect(back)
  }
  const [error, data] = await roleFormValidator.tryValidate(formInput(request), {
    messagesProvider: i18n.createMessagesProvider(),
  })
  if (error) {
    session.flashValidationErrors(error, false)
    session.flashExcept(NEVER_FLASHED)
    return response.redirect(back)
  }
  const result = await new SaveRole().handle(
    {
      nameZh: data.nameZh,
      nameEn: data.nameEn,
      description: data.description ?? null,
      permissions: data.permissions,
    },
    role ? { mode: 'update', publicId: role.publicId } : { mode: 'create' },
    actorFrom(ctx)
  )
  if (!result.ok) {
    if (result.error === 'not_found') return notFound(ctx)
    const field = result.error === 'name_taken' ? 'nameZh' : 'permissions'
    return fail(field, i18n.t(`admins.errors.role_${result.error}`))
  }
  session.flash('notice', i18n.t(role ? 'admins.roles.updated' : 'admins.roles.created'))
  return response.redirect(`/console/roles/${result.value.publicId}`)
}
