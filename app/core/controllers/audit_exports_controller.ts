import { Readable } from 'node:stream'
import type { HttpContext } from '@adonisjs/core/http'
import { DateTime } from 'luxon'
import { actorFrom } from '#core/http/actor'
import { ExportAuditLog } from '#core/actions/export_audit_log'
import { currentSchool, schoolTimeZone } from '#appliance/services/school_settings'
import { auditFiltersValidator, withoutBlanks } from '#core/validators/audit'

export default class AuditExportsController {
  /**
   * The audit log as CSV, with the list's filters. Streamed a batch at a
   * time: an export of the whole log never sits in memory.
   */
  async show(ctx: HttpContext) {
    const { request, response, bouncer, i18n, session } = ctx
    await bouncer.authorize('permit', 'audit.export')
    const [error, input] = await auditFiltersValidator.tryValidate(withoutBlanks(request.qs()))
    if (error) {
      session.flash('error', i18n.t('audit.list.invalid_filters'))
      return response.redirect('/console/audit')
    }
    const filters = { ...input }
    delete filters.page
    const zone = schoolTimeZone()
    const { chunks } = await new ExportAuditLog().handle(filters, actorFrom(ctx), {
      zone,
      t: i18n.t.bind(i18n),
    })
    const school = await currentSchool()
    const stamp = DateTime.now().setZone(zone).toFormat('yyyyMMdd-HHmmss')
    const filename = `audit-${school?.code ?? 'quad'}-${stamp}.csv`
    response.header('content-type', 'text/csv; charset=utf-8')
    response.header('content-disposition', `attachment; filename="${filename}"`)
    response.header('cache-control', 'no-store')
    response.header('x-content-type-options', 'nosniff')
    response.stream(Readable.from(chunks))
  }
}
