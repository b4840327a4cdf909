import type { HttpContext } from '@adonisjs/core/http'
import { errors as vineErrors } from '@vinejs/vine'
import { actorFrom } from '#core/http/actor'
import { NEVER_FLASHED } from '#core/http/flash'
import { pagerView } from '#core/http/pagination'
import User from '#identity/models/user'
import Role from '#identity/models/role'
import type { HeldGrant } from '#identity/services/admin_access'
import { searchAdminAccounts } from '#identity/services/admin_accounts'
import { ensureBuiltInRoles } from '#identity/services/roles'
import { flattenOrgTree, loadOrgTree } from '#identity/services/org_tree'
import { CreateAdminAccount } from '#identity/actions/create_admin_account'
import { SetAdminAccountState } from '#identity/actions/set_admin_account_state'
import { ResetAdminPassword } from '#identity/actions/reset_admin_password'
import { ResetAdminSecondFactor } from '#identity/actions/reset_admin_second_factor'
import { withoutBlankFilters } from '#identity/validators/people'
import {
  ADMIN_STATES,
  adminFiltersValidator,
  newAdminValidator,
  publicIdParamsValidator,
  resetPasswordValidator,
} from '#identity/validators/admins'

/** The form field each refusal of an action belongs to. */
const ERROR_FIELDS: Record<string, string> = {
  username_taken: 'username',
  too_short: 'password',
  too_long: 'password',
  needs_letter_and_digit: 'password',
  contains_username: 'password',
  role_unknown: 'role',
  unit_unknown: 'unit',
  not_scopable: 'unit',
}

type I18n = HttpContext['i18n']

/** A grant as a line of text: "院系管理员 · 计算机学院" or "超级管理员 · 全校". */
export function grantLabel(grant: HeldGrant, i18n: I18n): string {
  const role = i18n.locale.startsWith('zh') ? grant.role.nameZh : grant.role.nameEn
  return `${role} · ${grant.unit ? grant.unit.name : i18n.t('admins.whole_school')}`
}

/** An account's state for the list: disabled wins over locked. */
function stateOf(user: User): (typeof ADMIN_STATES)[number] {
  if (user.disabledAt) return 'disabled'
  if (user.isLocked()) return 'locked'
  return 'active'
}

/** The choices of the grant form: every role, and every unit of the tree under "whole school". */
export async function grantFormOptions(i18n: I18n) {
  await ensureBuiltInRoles()
  const roles = await Role.query().orderBy('built_in', 'desc').orderBy('id')
  const units = flattenOrgTree(await loadOrgTree()).map(({ unit }) => unit)
  return {
    roleOptions: [
      { value: '', label: i18n.t('admins.grants.choose_role') },
      ...roles.map((role) => ({ value: role.publicId, label: role.name(i18n.locale) })),
    ],
    unitOptions: [
      { value: '', label: i18n.t('admins.whole_school') },
      ...units.map((unit) => ({
        value: unit.publicId,
        label: `${'\u3000'.repeat(unit.depth + 1)}${unit.name}`,
      })),
    ],
  }
}

/** Back to a form with inline errors and a flash message; passwords are never flashed. */
function backWithErrors(
  { session, response, i18n }: HttpContext,
  back: string,
  bag: Record<string, string[]>
) {
  session.flashExcept(NEVER_FLASHED)
  session.flash('inputErrorsBag', bag)
  session.flash('error', i18n.t('admins.not_saved'))
  return response.redirect(back)
}

/** Validates with messages in the reader's language; on failure, inline errors. */
async function validated<T>(
  ctx: HttpContext,
  back: string,
  validator: { tryValidate: (data: unknown, options: any) => Promise<[unknown, T | null]> },
  data: unknown
): Promise<T | null> {
  const [error, value] = await validator.tryValidate(data, {
    messagesProvider: ctx.i18n.createMessagesProvider(),
  })
  if (error instanceof vineErrors.E_VALIDATION_ERROR) {
    const bag: Record<string, string[]> = {}
    for (const message of error.messages as { field: string; message: string }[]) {
      ;(bag[message.field] ??= []).push(message.message)
    }
    backWithErrors(ctx, back, bag)
    return null
  }
  if (error) throw error
  return value
}

async function accountFromParams(params: Record<string, unknown>) {
  const [error, input] = await publicIdParamsValidator.tryValidate(params)
  if (error) return null
  return User.findBy('public_id', input.publicId)
}

function notFound({ response, view }: HttpContext) {
  response.status(404)
  return view.render('pages/errors/status', { status: 404 })
}

/** Console accounts: who may sign in to the console, and with which grants. */
export default class AdminAccountsController {
  /** The accounts: search, state filter, grants and last sign-in. */
  async index({ request, response, view, bouncer, i18n, session }: HttpContext) {
    await bouncer.authorize('permit', 'admins.manage')
    const [error, input] = await adminFiltersValidator.tryValidate(
      withoutBlankFilters(request.qs())
    )
    if (error) {
      session.flash('error', i18n.t('admins.invalid_filters'))
      return response.redirect('/console/admins')
    }
    const { page = 1, ...filters } = input
    const paginator = await searchAdminAccounts(filters, page)
    return view.render('pages/identity/admins/index', {
      accounts: paginator.all().map((user) => ({
        user,
        state: stateOf(user),
        grants: user.access.grants.map((grant) => grantLabel(grant, i18n)),
      })),
      pager: pagerView(paginator, '/console/admins', filters),
      filters,
      stateOptions: ADMIN_STATES.map((value) => ({
        value,
        label: i18n.t(`admins.states.${value}`),
      })),
    })
  }

  /** The form for a new account and its first grant. */
  async create({ view, bouncer, i18n }: HttpContext) {
    await bouncer.authorize('permit', 'admins.manage')
    return view.render('pages/identity/admins/new', await grantFormOptions(i18n))
  }

  async store(ctx: HttpContext) {
    const { request, response, session, bouncer, i18n } = ctx
    await bouncer.authorize('permit', 'admins.manage')
    const back = '/console/admins/new'
    const data = await validated(
      ctx,
      back,
      newAdminValidator,
      withoutBlankFilters(
        request.only([
          'username',
          'displayName',
          'email',
          'password',
          'passwordConfirmation',
          'role',
          'unit',
        ])
      )
    )
    if (!data) return
    const result = await new CreateAdminAccount().handle(
      {
        username: data.username,
        displayName: data.displayName,
        email: data.email ?? null,
        password: data.password,
        role: data.role,
        unit: data.unit ?? null,
      },
      actorFrom(ctx)
    )
    if (!result.ok) {
      const field = ERROR_FIELDS[result.error] ?? 'username'
      return backWithErrors(ctx, back, { [field]: [i18n.t(`admins.errors.${result.error}`)] })
    }
    session.flash('notice', i18n.t('admins.created', { username: result.value.username }))
    return response.redirect(`/console/admins/${result.value.publicId}`)
  }

  /** One account: its grants, state, and the forms to change them. */
  async show(ctx: HttpContext) {
    const { view, bouncer, i18n, auth } = ctx
    await bouncer.authorize('permit', 'admins.manage')
    const account = await accountFromParams(ctx.params)
    if (!account) return notFound(ctx)
    return view.render('pages/identity/admins/show', {
      account,
      state: stateOf(account),
      self: account.id === auth.getUserOrFail().id,
      grants: account.access.grants.map((grant) => ({
        publicId: grant.publicId,
        label: grantLabel(grant, i18n),
      })),
      ...(await grantFormOptions(i18n)),
    })
  }

  async disable(ctx: HttpContext) {
    return changeState(ctx, false)
  }

  async enable(ctx: HttpContext) {
    return changeState(ctx, true)
  }

  /** Sets a new password that the account's holder receives from the admin in person. */
  async resetPassword(ctx: HttpContext) {
    const { request, response, session, bouncer, i18n } = ctx
    await bouncer.authorize('permit', 'admins.manage')
    const account = await accountFromParams(ctx.params)
    if (!account) return notFound(ctx)
    const back = `/console/admins/${account.publicId}`
    const data = await validated(
      ctx,
      back,
      resetPasswordValidator,
      request.only(['password', 'passwordConfirmation'])
    )
    if (!data) return
    const result = await new ResetAdminPassword().handle(
      { account: account.publicId, password: data.password },
      actorFrom(ctx)
    )
    if (!result.ok) {
      if (result.error === 'not_found') return notFound(ctx)
      return backWithErrors(ctx, back, { password: [i18n.t(`admins.errors.${result.error}`)] })
    }
    session.flash('notice', i18n.t('admins.password_reset_done'))
    return response.redirect(back)
  }

  /** Forgets the account's authenticator app; it enrolls a new one at its next sign-in. */
  async resetSecondFactor(ctx: HttpContext) {
    const { response, session, bouncer, i18n } = ctx
    await bouncer.authorize('permit', 'admins.manage')
    const account = await accountFromParams(ctx.params)
    if (!account) return notFound(ctx)
    const result = await new ResetAdminSecondFactor().handle(
      { account: account.publicId },
      actorFrom(ctx)
    )
    if (!result.ok) {
      if (result.error === 'not_found') return notFound(ctx)
      session.flash('error', i18n.t(`admins.errors.second_factor_${result.error}`))
    } else session.flash('notice', i18n.t('admins.second_factor_reset_done'))
    return response.redirect(`/console/admins/${account.publicId}`)
  }
}

async function changeState(ctx: HttpContext, enabled: boolean) {
  const { response, session, bouncer, i18n } = ctx
  await bouncer.authorize('permit', 'admins.manage')
  const account = await accountFromParams(ctx.params)
  if (!account) return notFound(ctx)
  const result = await new SetAdminAccountState().handle(
    { account: account.publicId, enabled },
    actorFrom(ctx)
  )
  if (!result.ok) {
    if (result.error === 'not_found') return notFound(ctx)
    session.flash('error', i18n.t(`admins.errors.${result.error}`))
  } else session.flash('notice', i18n.t(enabled ? 'admins.enabled_done' : 'admins.disabled_done'))
  return response.redirect(`/console/admins/${account.publicId}`)
}
