import type { HttpContext } from '@adonisjs/core/http'
import type { I18n } from '@adonisjs/i18n'
import { pagerView } from '#core/http/pagination'
import { GENESIS_HASH } from '#core/services/audit'
import { recomputeEntryHash } from '#core/services/audit_verify'
import type AuditEntry from '#core/models/audit_entry'
import {
  ACTOR_TYPES,
  OUTCOMES,
  auditActions,
  auditEntriesPerDay,
  findAuditEntry,
  searchAuditEntries,
} from '#core/services/audit_search'
import { actionLabel } from '#core/services/audit_csv'
import { schoolTimeZone } from '#appliance/services/school_settings'
import { auditFiltersValidator, auditSeqValidator, withoutBlanks } from '#core/validators/audit'

const PER_PAGE = 50
const CHART_DAYS = 14
const OUTCOME_BADGES: Record<string, string> = {
  success: 'badge--success',
  failure: 'badge--danger',
  denied: 'badge--warning',
}

/** What a list row and the detail page show of an entry, with labels in the reader's language. */
function present(entry: AuditEntry, i18n: I18n) {
  const t = i18n.t.bind(i18n)
  return {
    entry,
    actionLabel: actionLabel(t, entry.action),
    actorLabel: entry.actorName ?? t(`audit.actor_types.${entry.actorType}`, {}, entry.actorType),
    actorTypeLabel: t(`audit.actor_types.${entry.actorType}`, {}, entry.actorType),
    subjectTypeLabel: entry.subjectType
      ? t(`audit.subject_types.${entry.subjectType}`, {}, entry.subjectType)
      : null,
    outcomeLabel: t(`audit.outcomes.${entry.outcome}`, {}, entry.outcome),
    outcomeBadge: OUTCOME_BADGES[entry.outcome] ?? '',
  }
}

/** Before/after/meta as indented JSON; text that is not JSON is shown as it is. */
function prettyJson(value: string | null): string | null {
  if (value === null) return null
  try {
    return JSON.stringify(JSON.parse(value), null, 2)
  } catch {
    return value
  }
}

/** Top-level keys whose value differs between before and after. */
function changedKeys(before: string | null, after: string | null): string[] {
  const parse = (value: string | null) => {
    try {
      const parsed = value ? JSON.parse(value) : null
      return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : null
    } catch {
      return null
    }
  }
  const old = parse(before)
  const now = parse(after)
  if (!old || !now) return []
  const keys = new Set([...Object.keys(old), ...Object.keys(now)])
  return [...keys].filter((key) => JSON.stringify(old[key]) !== JSON.stringify(now[key]))
}

/** The select options of the action filter: each module, then its actions, indented. */
function actionOptions(actions: string[], i18n: I18n) {
  const t = i18n.t.bind(i18n)
  const modules = [...new Set(actions.map((action) => action.split('.')[0]))]
  return modules.flatMap((module) => [
    {
      value: module,
      label: t('audit.filters.module_all', {
        module: t(`audit.modules.${module}`, {}, module),
      }),
    },
    ...actions
      .filter((action) => action.startsWith(`${module}.`))
      .map((action) => ({ value: action, label: `\u3000${actionLabel(t, action)}` })),
  ])
}

export default class AuditEntriesController {
  /** The audit log: filters, a 14-day activity chart and 50 entries a page, newest first. */
  async index({ request, response, view, bouncer, i18n, session }: HttpContext) {
    await bouncer.authorize('permit', 'audit.read')
    const [error, input] = await auditFiltersValidator.tryValidate(withoutBlanks(request.qs()))
    if (error) {
      session.flash('error', i18n.t('audit.list.invalid_filters'))
      return response.redirect('/console/audit')
    }
    const { page = 1, ...filters } = input
    const zone = schoolTimeZone()
    const paginator = await searchAuditEntries(filters, zone, page, PER_PAGE)
    const perDay = await auditEntriesPerDay(filters, zone, CHART_DAYS)
    const actions = await auditActions()
    const query = { ...filters }
    const exportQuery = new URLSearchParams(
      Object.entries(query).map(([key, value]): [string, string] => [key, String(value)])
    ).toString()
    return view.render('pages/core/audit/index', {
      rows: paginator.all().map((entry) => present(entry, i18n)),
      pager: pagerView(paginator, '/console/audit', query),
      filters,
      zone,
      exportUrl: `/console/audit/export.csv${exportQuery ? `?${exportQuery}` : ''}`,
      actionOptions: actionOptions(actions, i18n),
      outcomeOptions: OUTCOMES.map((value) => ({
        value,
        label: i18n.t(`audit.outcomes.${value}`),
      })),
      actorOptions: ACTOR_TYPES.map((value) => ({
        value,
        label: i18n.t(`audit.actor_types.${value}`),
      })),
      chart: {
        labels: perDay.map(({ day }) => day.slice(5)),
        values: perDay.map(({ count }) => count),
        total: perDay.reduce((sum, { count }) => sum + count, 0),
        filtered: Boolean(filters.q || filters.action || filters.outcome || filters.actor),
      },
    })
  }

  /** One entry with every field, its before/after side by side and its place in the chain. */
  async show({ params, response, view, bouncer, i18n }: HttpContext) {
    await bouncer.authorize('permit', 'audit.read')
    const { seq } = await auditSeqValidator.validate(params)
    const found = await findAuditEntry(seq)
    if (!found) {
      response.status(404)
      return view.render('pages/errors/status', { status: 404 })
    }
    const { entry } = found
    return view.render('pages/core/audit/show', {
      ...present(entry, i18n),
      zone: schoolTimeZone(),
      before: prettyJson(entry.before),
      after: prettyJson(entry.after),
      meta: prettyJson(entry.meta),
      changed: changedKeys(entry.before, entry.after),
      previousSeq: found.previousSeq,
      nextSeq: found.nextSeq,
      hashMatches: recomputeEntryHash(entry) === entry.hash,
      linkMatches: entry.prevHash === (found.predecessorHash ?? GENESIS_HASH),
    })
  }
}
