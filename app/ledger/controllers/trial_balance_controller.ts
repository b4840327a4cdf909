import type { HttpContext } from '@adonisjs/core/http'
import { DateTime } from 'luxon'
import { currentSchool } from '#appliance/services/school_settings'
import { csvCell, UTF8_BOM } from '#core/services/audit_csv'
import { shownBalance } from '#ledger/services/account_kinds'
import { Money } from '#ledger/services/money'
import { trialBalance, type TrialBalance } from '#ledger/services/trial_balance'
import { trialBalanceValidator, withoutBlanks } from '#ledger/validators/ledger'

/** The day asked for, today when none; null for a malformed or future day. */
async function dayOf({ request }: HttpContext, zone: string): Promise<string | null> {
  const [error, input] = await trialBalanceValidator.tryValidate(withoutBlanks(request.qs()))
  const today = DateTime.now().setZone(zone).toISODate()!
  if (error) return null
  const day = input.day ?? today
  const parsed = DateTime.fromISO(day, { zone })
  if (!parsed.isValid || day > today) return null
  return day
}

/** Amounts in the export are plain decimals ("-12.50"): numbers a spreadsheet can add up. */
function decimal(fen: number) {
  return Money.ofFen(fen).toDecimal()
}

export default class TrialBalanceController {
  /** One day's trial balance per kind of account. */
  async show(ctx: HttpContext) {
    const { view, bouncer, i18n, session, response } = ctx
    await bouncer.authorize('permit', 'ledger.read')
    const school = await currentSchool()
    const zone = school?.timeZone ?? 'Asia/Shanghai'
    const day = await dayOf(ctx, zone)
    if (!day) {
      session.flash('error', i18n.t('ledger.trial_balance.invalid_day'))
      return response.redirect('/console/trial-balance')
    }
    const balance = await trialBalance(day, zone)
    return view.render('pages/ledger/trial_balance', {
      balance,
      rows: balance.rows.map((row) => ({
        ...row,
        label: i18n.t(`ledger.kinds.${row.kind}`),
        openingShown: shownBalance(row.normalSide, row.opening),
        closingShown: shownBalance(row.normalSide, row.closing),
      })),
      previousDay: DateTime.fromISO(day).minus({ days: 1 }).toISODate(),
      nextDay:
        day < DateTime.now().setZone(zone).toISODate()!
          ? DateTime.fromISO(day).plus({ days: 1 }).toISODate()
          : null,
    })
  }

  /** The same trial balance as CSV (UTF-8 with BOM, so that Excel reads the Chinese labels). */
  async export(ctx: HttpContext) {
    const { bouncer, i18n, session, response } = ctx
    await bouncer.authorize('permit', 'ledger.read')
    const school = await currentSchool()
    const zone = school?.timeZone ?? 'Asia/Shanghai'
    const day = await dayOf(ctx, zone)
    if (!day) {
      session.flash('error', i18n.t('ledger.trial_balance.invalid_day'))
      return response.redirect('/console/trial-balance')
    }
    const balance: TrialBalance = await trialBalance(day, zone)
    const t = i18n.t.bind(i18n)
    const line = (cells: string[]) => cells.join(',') + '\r\n'
    let csv = UTF8_BOM
    csv += line([
      'day',
      'kind',
      'kind_label',
      'normal_side',
      'accounts',
      'opening',
      'debits',
      'credits',
      'closing',
    ])
    for (const row of balance.rows) {
      csv += line([
        balance.day,
        row.kind,
        csvCell(t(`ledger.kinds.${row.kind}`)),
        row.normalSide,
        String(row.accounts),
        decimal(shownBalance(row.normalSide, row.opening)),
        decimal(row.debits),
        decimal(row.credits),
        decimal(shownBalance(row.normalSide, row.closing)),
      ])
    }
    // The totals row holds the signed sums (credits positive): a balanced book shows zeros.
    csv += line([
      balance.day,
      'total',
      csvCell(t('ledger.trial_balance.total')),
      '',
      '',
      decimal(balance.totals.opening),
      decimal(balance.totals.debits),
      decimal(balance.totals.credits),
      decimal(balance.totals.closing),
    ])
    response.header('content-type', 'text/csv; charset=utf-8')
    response.header(
      'content-disposition',
      `attachment; filename="trial-balance-${school?.code ?? 'quad'}-${balance.day}.csv"`
    )
    response.header('cache-control', 'no-store')
    response.header('x-content-type-options', 'nosniff')
    return csv
  }
}
