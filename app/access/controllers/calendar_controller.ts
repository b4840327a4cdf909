import { DateTime } from 'luxon'
import type { HttpContext } from '@adonisjs/core/http'
import { actorFrom } from '#core/http/actor'
import { schoolZone } from '#cards/services/school_zone'
import AccessGroup from '#access/models/access_group'
import AccessHoliday from '#access/models/access_holiday'
import AccessException from '#access/models/access_exception'
import { EXCEPTION_EFFECTS, HOLIDAY_EFFECTS } from '#access/services/access_decision'
import { SaveHoliday } from '#access/actions/save_holiday'
import { DeleteHoliday } from '#access/actions/delete_holiday'
import { SaveException } from '#access/actions/save_exception'
import { EndException } from '#access/actions/end_exception'
import {
  exceptionValidator,
  holidayValidator,
  publicIdParamsValidator,
  withoutBlanks,
} from '#access/validators/access'
import { zoneTree } from '#access/controllers/zones_controller'

/** How many past exceptions the page lists below the current ones. */
const PAST_EXCEPTIONS = 50

function notFound({ response, view }: HttpContext) {
  response.status(404)
  return view.render('pages/errors/status', { status: 404 })
}

async function publicIdFrom(params: Record<string, unknown>): Promise<string | null> {
  const [error, input] = await publicIdParamsValidator.tryValidate(params)
  return error ? null : input.publicId
}

interface CalendarForms {
  holiday: Record<string, unknown>
  exception: Record<string, unknown>
  holidayError: string | null
  exceptionError: string | null
}

async function renderCalendar(ctx: HttpContext, forms: Partial<CalendarForms> = {}) {
  const t = ctx.i18n.t.bind(ctx.i18n)
  const zone = await schoolZone()
  const today = DateTime.now().setZone(zone).toISODate()!
  const holidays = await AccessHoliday.query()
    .preload('group')
    .orderBy('starts_on', 'desc')
    .orderBy('id', 'desc')
    .limit(200)
  const now = DateTime.utc()
  const current = await AccessException.query()
    .where('ends_at', '>', now.toSQL({ includeOffset: false })!)
    .preload('person')
    .preload('zone')
    .orderBy('ends_at')
  const past = await AccessException.query()
    .where('ends_at', '<=', now.toSQL({ includeOffset: false })!)
    .preload('person')
    .preload('zone')
    .orderBy('ends_at', 'desc')
    .limit(PAST_EXCEPTIONS)
  const groups = await AccessGroup.query().orderBy('name')
  const tree = await zoneTree()
  return ctx.view.render('pages/access/calendar', {
    today,
    holidays: holidays.map((holiday) => ({
      holiday,
      past: holiday.endsOn < today,
      hours: holiday.windows.map((window) => `${window.from}–${window.to}`).join(', '),
    })),
    exceptions: current,
    pastExceptions: past,
    holidayForm: {
      name: '',
      startsOn: today,
      endsOn: today,
      effect: 'closed',
      group: '',
      windows: [],
      ...forms.holiday,
    },
    exceptionForm: {
      personNo: '',
      zone: '',
      effect: 'allow',
      until: today,
      note: '',
      ...forms.exception,
    },
    holidayError: forms.holidayError ?? null,
    exceptionError: forms.exceptionError ?? null,
    effectOptions: HOLIDAY_EFFECTS.map((value) => ({
      value,
      label: t(`access.holiday_effects.${value}`),
    })),
    exceptionEffectOptions: EXCEPTION_EFFECTS.map((value) => ({
      value,
      label: t(`access.exception_effects.${value}`),
    })),
    groupOptions: [
      { value: '', label: t('access.holidays.all_groups') },
      ...groups.map((group) => ({ value: group.publicId, label: group.name })),
    ],
    zoneOptions: tree.map((entry) => ({ value: entry.zone.publicId, label: entry.label })),
  })
}

/** The hours rows of the holiday form (windows[0][from] …). */
function postedHours(raw: unknown): { from: string; to: string }[] {
  const list = Array.isArray(raw)
    ? raw
    : raw && typeof raw === 'object'
      ? Object.values(raw as Record<string, unknown>)
      : []
  return list.slice(0, 20).map((row: any) => ({
    from: typeof row?.from === 'string' ? row.from : '',
    to: typeof row?.to === 'string' ? row.to : '',
  }))
}

export default class CalendarController {
  /** Holidays and exceptions, with the forms to add them. */
  async index(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'access.view')
    return renderCalendar(ctx)
  }

  async storeHoliday(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'access.manage')
    const { request, response, i18n, session } = ctx
    const body = request.only(['name', 'startsOn', 'endsOn', 'effect', 'group', 'windows'])
    const hours = postedHours(body.windows)
    const again = (code: string) => {
      response.status(422)
      return renderCalendar(ctx, {
        holiday: { ...body, windows: hours },
        holidayError: i18n.t(`access.errors.${code}`),
      })
    }
    const [error, input] = await holidayValidator.tryValidate(withoutBlanks(body))
    if (error) return again('holiday_invalid')
    const result = await new SaveHoliday().handle(
      { ...input, group: input.group ?? null, windows: hours },
      actorFrom(ctx)
    )
    if (!result.ok) return again(result.error)
    session.flash('notice', i18n.t('access.holidays.saved'))
    return response.redirect('/console/access/calendar')
  }

  async destroyHoliday(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'access.manage')
    const publicId = await publicIdFrom(ctx.params)
    if (!publicId) return notFound(ctx)
    const result = await new DeleteHoliday().handle({ holiday: publicId }, actorFrom(ctx))
    if (!result.ok) return notFound(ctx)
    ctx.session.flash('notice', ctx.i18n.t('access.holidays.deleted'))
    return ctx.response.redirect('/console/access/calendar')
  }

  async storeException(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'access.manage')
    const { request, response, i18n, session } = ctx
    const body = request.only(['personNo', 'zone', 'effect', 'until', 'note'])
    const again = (code: string) => {
      response.status(422)
      return renderCalendar(ctx, {
        exception: body,
        exceptionError: i18n.t(`access.errors.${code}`),
      })
    }
    const [error, input] = await exceptionValidator.tryValidate(withoutBlanks(body))
    if (error) return again('exception_invalid')
    const zone = await schoolZone()
    // "Until" names the last day: the exception ends when that day ends, in school time.
    const endsAt = DateTime.fromISO(input.until, { zone }).plus({ days: 1 }).startOf('day')
    if (!endsAt.isValid) return again('exception_invalid')
    const result = await new SaveException().handle(
      {
        personNo: input.personNo,
        zone: input.zone,
        effect: input.effect,
        endsAt,
        note: input.note,
      },
      actorFrom(ctx)
    )
    if (!result.ok) return again(result.error)
    session.flash('notice', i18n.t('access.exceptions.saved'))
    return response.redirect('/console/access/calendar')
  }

  async endException(ctx: HttpContext) {
    await ctx.bouncer.authorize('permit', 'access.manage')
    const publicId = await publicIdFrom(ctx.params)
    if (!publicId) return notFound(ctx)
    const result = await new EndException().handle({ exception: publicId }, actorFrom(ctx))
    if (!result.ok && result.error === 'not_found') return notFound(ctx)
    ctx.session.flash('notice', ctx.i18n.t('access.exceptions.ended'))
    return ctx.response.redirect('/console/access/calendar')
  }
}
