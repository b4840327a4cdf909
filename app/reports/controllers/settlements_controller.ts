import type { HttpContext } from '@adonisjs/core/http'
import { actorFrom } from '#core/http/actor'
import LedgerTransfer from '#ledger/models/ledger_transfer'
import { withoutBlanks } from '#ledger/validators/ledger'
import Merchant from '#merchants/models/merchant'
import {
  confirmStatement,
  generateStatements,
  recordPayout,
} from '#reports/actions/settlement_statements'
import { reportLinkMadeAt, rotateReportLink } from '#reports/actions/report_links'
import SettlementStatement from '#reports/models/settlement_statement'
import { dayBefore, reportZone, todayIn } from '#reports/services/periods'
import {
  generateValidator,
  payoutValidator,
  publicIdParamsValidator,
  statementsQueryValidator,
} from '#reports/validators/reports'

async function notFound({ response, view }: HttpContext) {
  response.status(404)
  return view.render('pages/errors/status', { status: 404 })
}

async function statementOf(params: Record<string, unknown>) {
  const [error, input] = await publicIdParamsValidator.tryValidate(params)
  if (error) return null
  return SettlementStatement.query().where('public_id', input.publicId).preload('merchant').first()
}

/**
 * Settlement in the console (/console/settlements): each day's statements
 * per merchant, generating them on demand, confirming them, recording
 * payouts, and the merchants' mobile report links.
 */
export default class SettlementsController {
  async index(ctx: HttpContext) {
    const { request, view, bouncer, i18n, session, response } = ctx
    await bouncer.authorize('permit', 'finance.reports')
    const [error, input] = await statementsQueryValidator.tryValidate(withoutBlanks(request.qs()))
    if (error) {
      session.flash('error', i18n.t('reports.settlement.invalid_filter'))
      return response.redirect('/console/settlements')
    }
    const zone = await reportZone()
    const today = todayIn(zone)
    const day = input.day ?? dayBefore(today)
    const query = SettlementStatement.query().where('day', day).preload('merchant').orderBy('id')
    if (input.status) query.where('status', input.status)
    const statements = await query
    const totals = { net: 0, commission: 0, payable: 0 }
    for (const statement of statements) {
      totals.net += statement.net
      totals.commission += statement.commission
      totals.payable += statement.payable
    }
    return view.render('pages/reports/settlements', {
      day,
      today,
      zone,
      status: input.status ?? '',
      statements,
      totals,
      canManage: await bouncer.allows('permit', 'settlement.manage'),
    })
  }

  async show(ctx: HttpContext) {
    const { view, bouncer } = ctx
    await bouncer.authorize('permit', 'finance.reports')
    const statement = await statementOf(ctx.params)
    if (!statement) return notFound(ctx)
    const payout = statement.payoutTransferId
      ? await LedgerTransfer.find(statement.payoutTransferId)
      : null
    return view.render('pages/reports/statement', {
      statement,
      payout,
      splitTotal: statement.split.reduce((sum, line) => sum + line.amount, 0),
      canManage: await bouncer.allows('permit', 'settlement.manage'),
    })
  }

  async generate(ctx: HttpContext) {
    const { request, bouncer, i18n, session, response } = ctx
    await bouncer.authorize('permit', 'settlement.manage')
    const [error, input] = await generateValidator.tryValidate(request.all())
    if (error) {
      session.flash('error', i18n.t('reports.settlement.errors.invalid_day'))
      return response.redirect('/console/settlements')
    }
    const result = await generateStatements(input.day, { actor: actorFrom(ctx) })
    if (!result.ok) session.flash('error', i18n.t(`reports.settlement.errors.${result.error}`))
    else session.flash('notice', i18n.t('reports.settlement.generated', { ...result.value }))
    return response.redirect(`/console/settlements?day=${result.ok ? result.value.day : ''}`)
  }

  async confirm(ctx: HttpContext) {
    const { bouncer, i18n, session, response } = ctx
    await bouncer.authorize('permit', 'settlement.manage')
    const [error, input] = await publicIdParamsValidator.tryValidate(ctx.params)
    if (error) return notFound(ctx)
    const result = await confirmStatement(input.publicId, actorFrom(ctx))
    if (!result.ok && result.error === 'not_found') return notFound(ctx)
    session.flash(
      result.ok ? 'notice' : 'error',
      i18n.t(
        result.ok ? 'reports.settlement.confirmed' : `reports.settlement.errors.${result.error}`
      )
    )
    return response.redirect(`/console/settlements/${input.publicId}`)
  }

  async payout(ctx: HttpContext) {
    const { request, bouncer, i18n, session, response } = ctx
    await bouncer.authorize('permit', 'settlement.manage')
    const [paramsError, params] = await publicIdParamsValidator.tryValidate(ctx.params)
    if (paramsError) return notFound(ctx)
    const [error, input] = await payoutValidator.tryValidate(withoutBlanks(request.all()))
    if (error) {
      session.flash('error', i18n.t('reports.settlement.errors.invalid_reference'))
      return response.redirect(`/console/settlements/${params.publicId}`)
    }
    const result = await recordPayout(
      { publicId: params.publicId, reference: input.reference ?? null },
      actorFrom(ctx)
    )
    if (!result.ok && result.error === 'not_found') return notFound(ctx)
    if (result.ok)
      session.flash(
        'notice',
        i18n.t(
          result.value.replayed ? 'reports.settlement.already_paid' : 'reports.settlement.paid'
        )
      )
    else
      session.flash('error', i18n.t(`reports.settlement.errors.${result.error}`, {}, result.error))
    return response.redirect(`/console/settlements/${params.publicId}`)
  }

  /** The merchants and their mobile report links. */
  async links(ctx: HttpContext) {
    const { view, bouncer, i18n } = ctx
    await bouncer.authorize('permit', 'finance.reports')
    const merchants = await Merchant.query().orderBy('code')
    const zone = await reportZone()
    const rows = []
    for (const merchant of merchants) {
      const madeAt = await reportLinkMadeAt(merchant.id)
      rows.push({
        merchant,
        name: merchant.nameIn(i18n.locale),
        madeAt: madeAt ? madeAt.setZone(zone).toFormat('yyyy-MM-dd HH:mm') : null,
      })
    }
    return view.render('pages/reports/links', {
      rows,
      canManage: await bouncer.allows('permit', 'settlement.manage'),
    })
  }

  /** Makes a new report link for a merchant; the old one stops working. Shown once. */
  async rotateLink(ctx: HttpContext) {
    const { bouncer, i18n, session, response, request } = ctx
    await bouncer.authorize('permit', 'settlement.manage')
    const [error, input] = await publicIdParamsValidator.tryValidate(ctx.params)
    if (error) return notFound(ctx)
    const result = await rotateReportLink(input.publicId, actorFrom(ctx))
    if (!result.ok) return notFound(ctx)
    const url = `${request.protocol()}://${request.host()}/merchant-report/${result.value.token}`
    session.flash('notice', i18n.t('reports.links.made', { name: result.value.merchant.name }))
    session.flash('reportLink', url)
    return response.redirect('/console/settlements/links')
  }
}
