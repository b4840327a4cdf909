import type { HttpContext } from '@adonisjs/core/http'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import { schoolTimeZone } from '#appliance/services/school_settings'
import { actorFrom } from '#core/http/actor'
import { newPublicId } from '#core/services/ids'
import { RefundOnLeaving } from '#ledger/actions/leave_refund'
import { walletsOf } from '#ledger/services/accounts'
import { shownBalance } from '#ledger/services/account_kinds'
import { recordAudit } from '#core/services/audit'
import { csvCell, UTF8_BOM } from '#core/services/audit_csv'
import {
  CreateWalletBatch,
  ExpireWalletBatch,
  IssueWalletBatch,
  type BatchKind,
} from '#ledger/actions/wallet_batches'
import { channelReconciliation } from '#ledger/services/channel_reconciliation'
import { Money } from '#ledger/services/money'
import {
  isSpendingOrder,
  saveWalletSettings,
  walletSettings,
  MEALS,
} from '#ledger/services/wallet_settings'
import {
  batchFormValidator,
  reconciliationValidator,
  walletSettingsValidator,
} from '#ledger/validators/wallets'

const KINDS: BatchKind[] = ['subsidy', 'voucher']

function kindOf(params: Record<string, string>): BatchKind | null {
  const kind =
    params.kind === 'vouchers' ? 'voucher' : params.kind === 'subsidies' ? 'subsidy' : null
  return kind && KINDS.includes(kind) ? kind : null
}

function fen(text: string | undefined | null): number | null {
  if (text === undefined || text === null || text === '') return null
  const parsed = Money.parse(text)
  return parsed.ok ? parsed.value.fen : Number.NaN
}

function minutes(text: string | undefined | null): number | null {
  if (!text) return null
  const match = /^(\d{1,2}):(\d{2})$/.exec(text)
  if (!match) return Number.NaN
  return Number(match[1]) * 60 + Number(match[2])
}

function list(text: string | undefined | null): string[] {
  return (text ?? '')
    .split(/[\s,，;；]+/)
    .map((value) => value.trim())
    .filter(Boolean)
}

/** Console pages for subsidies, meal vouchers, wallet settings and channel reconciliation. */
export default class WalletConsoleController {
  async batches(ctx: HttpContext) {
    const { view, bouncer, params, response } = ctx
    await bouncer.authorize('permit', 'ledger.read')
    const kind = kindOf(params)
    if (!kind) return response.notFound()
    const batches = await db
      .from('wallet_batches')
      .where('kind', kind)
      .orderBy('id', 'desc')
      .limit(200)
    return view.render('pages/ledger/wallet_batches', {
      kind,
      path: params.kind,
      batches,
      meals: MEALS,
    })
  }

  async createBatch(ctx: HttpContext) {
    const { request, response, bouncer, params, session, i18n } = ctx
    await bouncer.authorize('permit', 'ledger.write')
    const kind = kindOf(params)
    if (!kind) return response.notFound()
    const back = `/console/wallets/${params.kind}`
    const [error, data] = await batchFormValidator.tryValidate(request.all())
    if (error || !data) {
      session.flash('error', i18n.t('ledger.batches.errors.invalid_form'))
      return response.redirect(back)
    }
    const zone = schoolTimeZone()
    const expiresAt = DateTime.fromISO(data.expiresOn, { zone }).endOf('day').toUTC()
    const input = {
      kind,
      name: data.name,
      audience: data.audience ?? null,
      personNumbers: data.personNumbers ?? null,
      amountPerPerson: fen(data.amount),
      mealsPerPerson: data.meals ?? null,
      mealValue: fen(data.mealValue),
      mealWindows: (data.mealWindows ?? []) as any,
      merchantCategories: list(data.categories),
      identityTypes: list(data.identityTypes),
      timeFrom: minutes(data.timeFrom),
      timeTo: minutes(data.timeTo),
      expiresAt,
      memo: data.memo ?? null,
      actor: actorFrom(ctx),
    }
    if (data.preview) {
      const { previewRecipients } = await import('#ledger/actions/wallet_batches')
      const preview = await previewRecipients(input)
      if (preview.ok)
        session.flash('notice', i18n.t('ledger.batches.preview', { count: preview.value.count }))
      else flashBatchError(ctx, preview.error, preview.details)
      session.flashAll()
      return response.redirect(back)
    }
    const created = await new CreateWalletBatch().handle(input)
    if (!created.ok) {
      flashBatchError(ctx, created.error, created.details)
      session.flashAll()
      return response.redirect(back)
    }
    session.flash('notice', i18n.t('ledger.batches.created', { count: created.value.recipients }))
    return response.redirect(`${back}/${created.value.publicId}`)
  }

  async batch(ctx: HttpContext) {
    const { view, bouncer, params, response } = ctx
    await bouncer.authorize('permit', 'ledger.read')
    const kind = kindOf(params)
    const batch = await db
      .from('wallet_batches')
      .where('public_id', String(params.publicId).toUpperCase())
      .first()
    if (!kind || !batch || batch.kind !== kind) return response.notFound()
    const recipients = await db
      .from('wallet_batch_recipients as r')
      .join('people as p', 'p.id', 'r.person_id')
      .leftJoin('ledger_transfers as t', 't.id', 'r.transfer_id')
      .where('r.batch_id', batch.id)
      .orderBy('r.id')
      .limit(1000)
      .select('p.person_no', 'p.name', 'r.status', 'r.error', 'r.amount', 't.public_id as transfer')
    return view.render('pages/ledger/wallet_batch', { kind, path: params.kind, batch, recipients })
  }

  async issueBatch(ctx: HttpContext) {
    const { bouncer, params, response, session, i18n } = ctx
    await bouncer.authorize('permit', 'ledger.write')
    const back = `/console/wallets/${params.kind}/${params.publicId}`
    const result = await new IssueWalletBatch().handle({
      batch: params.publicId,
      actor: actorFrom(ctx),
    })
    if (result.ok) session.flash('notice', i18n.t('ledger.batches.issuing'))
    else session.flash('error', i18n.t(`ledger.batches.errors.${result.error}`))
    return response.redirect(back)
  }

  async expireBatch(ctx: HttpContext) {
    const { bouncer, params, response, session, i18n } = ctx
    await bouncer.authorize('permit', 'ledger.write')
    const back = `/console/wallets/${params.kind}/${params.publicId}`
    const result = await new ExpireWalletBatch().handle({
      batch: params.publicId,
      actor: actorFrom(ctx),
    })
    if (result.ok)
      session.flash(
        'notice',
        i18n.t('ledger.batches.swept', { amount: Money.ofFen(result.value.amount).toDecimal() })
      )
    else session.flash('error', i18n.t(`ledger.batches.errors.${result.error}`))
    return response.redirect(back)
  }

  async settings(ctx: HttpContext) {
    const { view, bouncer } = ctx
    await bouncer.authorize('permit', 'ledger.read')
    return view.render('pages/ledger/wallet_settings', { settings: await walletSettings() })
  }

  async saveSettings(ctx: HttpContext) {
    const { request, response, bouncer, session, i18n } = ctx
    await bouncer.authorize('permit', 'ledger.write')
    const [error, data] = await walletSettingsValidator.tryValidate(request.all())
    const order = data ? [data.first, data.second, data.third] : null
    const maxPerTransfer = data ? fen(data.maxPerTransfer) : null
    const maxPerDay = data ? fen(data.maxPerDay) : null
    if (
      error ||
      !data ||
      !isSpendingOrder(order) ||
      !maxPerTransfer ||
      !maxPerDay ||
      !(maxPerTransfer > 0) ||
      !(maxPerDay > 0)
    ) {
      session.flash('error', i18n.t('ledger.batches.errors.invalid_settings'))
      return response.redirect('/console/wallets/settings')
    }
    const before = await walletSettings()
    const cardToCard = { enabled: Boolean(data.cardToCard), maxPerTransfer, maxPerDay }
    // Meal windows: a meal left blank keeps its window; a window must end after it starts.
    const mealWindows = before.mealWindows.map((window) => ({ ...window }))
    for (const meal of MEALS) {
      const from = minutes(data[`${meal}From`])
      const to = minutes(data[`${meal}To`])
      if (from === null && to === null) continue
      if (from === null || to === null || !(from < to) || to > 24 * 60) {
        session.flash('error', i18n.t('ledger.batches.errors.invalid_settings'))
        return response.redirect('/console/wallets/settings')
      }
      const index = mealWindows.findIndex((window) => window.meal === meal)
      if (index >= 0) mealWindows[index] = { meal, from, to }
      else mealWindows.push({ meal, from, to })
    }
    const overlapping = [...mealWindows]
      .sort((a, b) => a.from - b.from)
      .some((window, index, sorted) => index > 0 && sorted[index - 1].to > window.from)
    if (overlapping) {
      session.flash('error', i18n.t('ledger.batches.errors.invalid_settings'))
      return response.redirect('/console/wallets/settings')
    }
    await db.transaction(async (trx) => {
      await saveWalletSettings(trx, { spendingOrder: order, cardToCard, mealWindows })
      await recordAudit(
        actorFrom(ctx),
        {
          action: 'ledger.wallet_settings_changed',
          subjectType: 'wallet_settings',
          subjectId: 'wallets',
          before: {
            spendingOrder: before.spendingOrder,
            cardToCard: before.cardToCard,
            mealWindows: before.mealWindows,
          },
          after: { spendingOrder: order, cardToCard, mealWindows },
        },
        trx
      )
    })
    session.flash('notice', i18n.t('ledger.batches.settings_saved'))
    return response.redirect('/console/wallets/settings')
  }

  /** Finds a person by number and shows what leaving would pay out and sweep. */
  async leaving(ctx: HttpContext) {
    const { view, bouncer, request, auth } = ctx
    await bouncer.authorize('permit', 'ledger.read')
    const personNo = String(request.input('personNo', '')).trim().toUpperCase().slice(0, 32)
    const person = personNo
      ? await db
          .from('people')
          .where('person_no', personNo)
          .select('id', 'public_id', 'person_no', 'name', 'status')
          .first()
      : null
    const accounts = person ? await walletsOf(Number(person.id)) : []
    const wallets = accounts.map((wallet) => ({
      kind: wallet.kind,
      balance: shownBalance(wallet.normalSide, wallet.balance),
    }))
    return view.render('pages/ledger/leaving', {
      personNo,
      person,
      wallets,
      formKey: auth.user!.can('ledger.write') ? `leave:${newPublicId()}` : null,
    })
  }

  async refundLeaving(ctx: HttpContext) {
    const { request, response, bouncer, session, i18n, params } = ctx
    await bouncer.authorize('permit', 'ledger.write')
    const key = String(request.input('idempotencyKey', ''))
    const result = await new RefundOnLeaving().handle({
      personPublicId: String(params.publicId),
      idempotencyKey: /^leave:[0-9A-Z]{26}$/.test(key) ? key : `leave:${newPublicId()}`,
      actor: actorFrom(ctx),
    })
    if (!result.ok) {
      session.flash('error', i18n.t(`ledger.leaving.errors.${result.error}`, {}))
      return response.redirect().back()
    }
    session.flash(
      'notice',
      i18n.t('ledger.leaving.done', {
        paid: Money.ofFen(result.value.paidOut).toDecimal(),
        swept: Money.ofFen(result.value.swept.amount).toDecimal(),
      })
    )
    if (result.value.transferPublicId)
      return response.redirect(`/console/ledger/transfers/${result.value.transferPublicId}/receipt`)
    return response.redirect().back()
  }

  async reconciliation(ctx: HttpContext) {
    const { view, bouncer, request } = ctx
    await bouncer.authorize('permit', 'ledger.read')
    const range = await rangeOf(request.qs())
    const rows = await channelReconciliation(range.from, range.to, schoolTimeZone())
    return view.render('pages/ledger/reconciliation', { ...range, rows })
  }

  async reconciliationCsv(ctx: HttpContext) {
    const { bouncer, request, response, i18n } = ctx
    await bouncer.authorize('permit', 'ledger.read')
    const range = await rangeOf(request.qs())
    const rows = await channelReconciliation(range.from, range.to, schoolTimeZone())
    const decimal = (value: number) => Money.ofFen(value).toDecimal()
    const line = (cells: string[]) => cells.join(',') + '\r\n'
    let csv = UTF8_BOM
    csv += line([
      'day',
      'channel',
      'channel_label',
      'top_ups',
      'top_up_count',
      'reversed',
      'payouts',
      'expected',
      'clearing',
      'difference',
    ])
    for (const row of rows) {
      csv += line([
        row.day,
        row.channel,
        csvCell(i18n.t(`ledger.channels.${row.channel}`)),
        decimal(row.topUps),
        String(row.topUpCount),
        decimal(row.reversed),
        decimal(row.payouts),
        decimal(row.expected),
        decimal(row.clearing),
        decimal(row.difference),
      ])
    }
    response.header('content-type', 'text/csv; charset=utf-8')
    response.header(
      'content-disposition',
      `attachment; filename="channel-reconciliation-${range.from}-${range.to}.csv"`
    )
    response.header('cache-control', 'no-store')
    return csv
  }
}

async function rangeOf(qs: Record<string, unknown>) {
  const zone = schoolTimeZone()
  const today = DateTime.now().setZone(zone).toISODate()!
  const [error, data] = await reconciliationValidator.tryValidate(qs)
  let from = (!error && data?.from) || DateTime.now().setZone(zone).minus({ days: 6 }).toISODate()!
  let to = (!error && data?.to) || today
  if (to > today) to = today
  if (from > to) from = to
  // At most 92 days at a time.
  const earliest = DateTime.fromISO(to).minus({ days: 91 }).toISODate()!
  if (from < earliest) from = earliest
  return { from, to }
}

function flashBatchError(
  { session, i18n }: HttpContext,
  error: string,
  details: Record<string, unknown> | undefined
) {
  session.flash('error', i18n.t(`ledger.batches.errors.${error}`))
  const rows = (details?.rows as { line: number; value: string; problem: string }[]) ?? []
  if (rows.length > 0)
    session.flash(
      'brokenRows',
      rows.slice(0, 100).map((row) => ({
        line: row.line,
        value: row.value,
        problem: i18n.t(`ledger.batches.row_problems.${row.problem}`),
      }))
    )
}
