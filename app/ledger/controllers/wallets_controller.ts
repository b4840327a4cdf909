import type { HttpContext } from '@adonisjs/core/http'
import { pagerView } from '#core/http/pagination'
import { newPublicId } from '#core/services/ids'
import Person from '#identity/models/person'
import { searchPeople } from '#identity/services/people_directory'
import { cashBalances, personStatement, walletOverview } from '#ledger/services/statement'
import { accountLabel, transferKindLabel } from '#ledger/services/ledger_labels'
import { MAX_COUNTER_TOP_UP } from '#ledger/actions/top_up_at_counter'
import {
  publicIdParamsValidator,
  statementQueryValidator,
  walletSearchValidator,
  withoutBlanks,
} from '#ledger/validators/ledger'

const PEOPLE_PER_PAGE = 20

/** A key for a money form, made when the form is drawn: submitting it twice books once. */
export function newFormKey() {
  return `console:${newPublicId()}`
}

/** The person in /console/ledger/people/:publicId, or null. */
export async function ledgerPerson(params: Record<string, unknown>) {
  const [error, input] = await publicIdParamsValidator.tryValidate(params)
  if (error) return null
  return Person.query().where('public_id', input.publicId).preload('orgUnit').first()
}

export async function notFound({ response, view }: HttpContext) {
  response.status(404)
  return view.render('pages/errors/status', { status: 404 })
}

export default class WalletsController {
  /** The counter's start page: find a person by name, number or pinyin initials. */
  async index({ request, response, view, bouncer, i18n, session }: HttpContext) {
    await bouncer.authorize('permit', 'ledger.read')
    const [error, input] = await walletSearchValidator.tryValidate(withoutBlanks(request.qs()))
    if (error) {
      session.flash('error', i18n.t('ledger.wallets.invalid_search'))
      return response.redirect('/console/ledger')
    }
    const { page = 1, q } = input
    const paginator = await searchPeople({ q }, page, PEOPLE_PER_PAGE)
    const people = paginator.all()
    const balances = await cashBalances(people.map((person) => person.id))
    return view.render('pages/ledger/index', {
      q: q ?? '',
      rows: people.map((person) => ({ person, cash: balances.get(person.id) ?? null })),
      pager: pagerView(paginator, '/console/ledger', { q }),
    })
  }

  /** A person's wallets, the top-up form and their statement. */
  async show(ctx: HttpContext) {
    const { request, view, bouncer, i18n, auth } = ctx
    await bouncer.authorize('permit', 'ledger.read')
    const person = await ledgerPerson(ctx.params)
    if (!person) return notFound(ctx)
    const [, query] = await statementQueryValidator.tryValidate(withoutBlanks(request.qs()))
    const overview = await walletOverview(person.id)
    const paginator = await personStatement(
      overview.accounts.map((account) => account.id),
      query?.page ?? 1
    )
    const t = i18n.t.bind(i18n)
    return view.render('pages/ledger/person', {
      person,
      wallets: overview.wallets.map((wallet) => ({
        ...wallet,
        label: t(`ledger.kinds.${wallet.kind}`),
      })),
      arrears: overview.arrears,
      statement: paginator.all().map((posting) => ({
        posting,
        transfer: posting.transfer,
        kindLabel: transferKindLabel(posting.transfer.kind, t),
        walletLabel: accountLabel(posting.account, t),
      })),
      pager: pagerView(paginator, `/console/ledger/people/${person.publicId}`, {}),
      formKey: auth.user!.can('ledger.write') ? newFormKey() : null,
      maxTopUp: MAX_COUNTER_TOP_UP,
    })
  }
}
