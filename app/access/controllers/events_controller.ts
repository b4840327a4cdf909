import type { HttpContext } from '@adonisjs/core/http'
import { actorFrom } from '#core/http/actor'
import { pagerView } from '#core/http/pagination'
import { sendFile } from '#identity/controllers/imports_controller'
import { schoolZone } from '#cards/services/school_zone'
import { formatCardNo } from '#cards/services/card_numbers'
import AccessPoint from '#access/models/access_point'
import { ACCESS_REASONS, reasonCode } from '#access/services/access_decision'
import { EVENTS_PER_PAGE, searchEvents } from '#access/services/access_event_log'
import { ExportAccessEvents } from '#access/actions/export_access_events'
import {
  eventFiltersValidator,
  exportEventsValidator,
  withoutBlanks,
} from '#access/validators/access'
import { zoneTree } from '#access/controllers/zones_controller'

export default class EventsController {
  /** The event log: who, where, when, allowed or why not; filtered and paged. */
  async index({ request, response, view, bouncer, i18n, session }: HttpContext) {
    await bouncer.authorize('permit', 'access.view')
    const [error, input] = await eventFiltersValidator.tryValidate(withoutBlanks(request.qs()))
    if (error) {
      session.flash('error', i18n.t('access.events.invalid_filters'))
      return response.redirect('/console/access/events')
    }
    const t = i18n.t.bind(i18n)
    const { page = 1, ...filters } = input
    const zone = await schoolZone()
    const result = await searchEvents(filters, zone, page, EVENTS_PER_PAGE)
    const tree = await zoneTree()
    const points = await AccessPoint.query().orderBy('code')
    return view.render('pages/access/events', {
      zone,
      filters,
      total: result.total,
      pager: pagerView(result, '/console/access/events', filters),
      events: result.rows.map((event) => {
        const code = reasonCode(event.reason)
        const detail = event.reason.slice(code.length + 1)
        return {
          ...event,
          time: event.occurredAt.setZone(zone).toFormat('yyyy-MM-dd HH:mm:ss'),
          card: event.cardNo ? formatCardNo(event.cardNo) : (event.uid ?? ''),
          reasonCode: code,
          reasonText: t(`access.reasons.${code}`) + (detail ? ` (${detail})` : ''),
        }
      }),
      zoneOptions: tree.map((entry) => ({ value: entry.zone.publicId, label: entry.label })),
      pointOptions: points.map((point) => ({ value: point.publicId, label: point.name })),
      outcomeOptions: [
        { value: 'allowed', label: t('access.events.allowed') },
        { value: 'denied', label: t('access.events.denied') },
      ],
      reasonOptions: ACCESS_REASONS.map((value) => ({
        value,
        label: t(`access.reasons.${value}`),
      })),
      modeOptions: [
        { value: 'online', label: t('access.modes.online') },
        { value: 'offline', label: t('access.modes.offline') },
      ],
    })
  }

  /** The log with the page's filters as CSV or XLSX; audited. */
  async export(ctx: HttpContext) {
    const { request, response, bouncer, i18n, session } = ctx
    await bouncer.authorize('permit', 'access.view')
    const [error, input] = await exportEventsValidator.tryValidate(withoutBlanks(request.all()))
    if (error) {
      session.flash('error', i18n.t('access.events.invalid_filters'))
      return response.redirect('/console/access/events')
    }
    const { format, ...filters } = input
    const { bytes } = await new ExportAccessEvents().handle(
      { filters, format, locale: i18n.locale },
      actorFrom(ctx)
    )
    return sendFile(response, bytes, format, 'access-events')
  }
}
