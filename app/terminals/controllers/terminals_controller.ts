import type { HttpContext } from '@adonisjs/core/http'
import db from '@adonisjs/lucid/services/db'
import { actorFrom } from '#core/http/actor'
import { pagerView } from '#core/http/pagination'
import { currentCertificateAuthority } from '#appliance/services/pki'
import { createTerminal, type TerminalWithCode } from '#terminals/actions/create_terminal'
import { newEnrollmentCodeFor } from '#terminals/actions/new_enrollment_code'
import { revokeTerminal } from '#terminals/actions/revoke_terminal'
import { saveKindOfflineLimits, updateTerminal } from '#terminals/actions/update_terminal'
import Terminal, { TERMINAL_KINDS } from '#terminals/models/terminal'
import {
  kindOfflineLimits,
  offlineLimitsFor,
  type TerminalOfflineLimits,
} from '#terminals/services/offline_limits'
import { connectionOf, listTerminals, terminalCounts } from '#terminals/services/terminal_list'
import { TERMINAL_SETTINGS } from '#terminals/services/terminal_settings'
import {
  enrollmentCodeValidator,
  kindLimitsValidator,
  revokeValidator,
  terminalEditValidator,
  terminalFiltersValidator,
  terminalFormValidator,
  terminalParamsValidator,
} from '#terminals/validators/console'

function withoutBlanks(input: Record<string, unknown>) {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== ''))
}

function gatewayPort(): number {
  return Number(process.env.QUAD_GATEWAY_PORT ?? 8444)
}

/** The page that shows a one-time code: rendered from the POST, never stored or redirected. */
function codePage(ctx: HttpContext, created: TerminalWithCode) {
  const ca = currentCertificateAuthority()
  return ctx.view.render('pages/terminals/enrollment', {
    terminal: created.terminal,
    code: created.enrollmentCode,
    expiresAt: created.expiresAt,
    caFingerprint: ca?.fingerprint256 ?? null,
    gatewayPort: gatewayPort(),
  })
}

async function shopOptions() {
  const rows = await db.from('shops').select('id', 'public_id', 'name').orderBy('name').limit(1000)
  return rows.map((row) => ({ id: Number(row.id), value: row.public_id, label: row.name }))
}

export default class TerminalsController {
  /** Terminals with their connection state, last contact, clock and pending offline records. */
  async index({ request, response, view, bouncer, session, i18n }: HttpContext) {
    await bouncer.authorize('permit', 'terminals.manage')
    const [error, input] = await terminalFiltersValidator.tryValidate(withoutBlanks(request.qs()))
    if (error) {
      session.flash('error', i18n.t('terminals.list.invalid_filters'))
      return response.redirect('/console/terminals')
    }
    const { page = 1, ...filters } = input
    const paginator = await listTerminals(filters, page)
    return view.render('pages/terminals/index', {
      rows: paginator.all().map((terminal) => ({
        terminal,
        connection: connectionOf(terminal),
        driftSeconds:
          terminal.clockDriftMs === null ? null : Math.round(terminal.clockDriftMs / 100) / 10,
        skewed:
          terminal.clockDriftMs !== null &&
          Math.abs(terminal.clockDriftMs) > TERMINAL_SETTINGS.maxClockDriftSeconds * 1000,
      })),
      pager: pagerView(paginator, '/console/terminals', filters),
      filters,
      counts: await terminalCounts(),
      onlineWindow: TERMINAL_SETTINGS.onlineWindowSeconds,
      kindOptions: TERMINAL_KINDS.map((kind) => ({
        value: kind,
        label: i18n.t(`terminals.kinds.${kind}`),
      })),
      statusOptions: ['online', 'offline', 'pending', 'revoked'].map((status) => ({
        value: status,
        label: i18n.t(`terminals.connection.${status}`),
      })),
    })
  }

  async create({ view, bouncer, i18n }: HttpContext) {
    await bouncer.authorize('permit', 'terminals.manage')
    return view.render('pages/terminals/form', {
      kindOptions: TERMINAL_KINDS.map((kind) => ({
        value: kind,
        label: i18n.t(`terminals.kinds.${kind}`),
      })),
      shopOptions: [
        { value: '', label: i18n.t('terminals.form.no_shop') },
        ...(await shopOptions()),
      ],
    })
  }

  async store(ctx: HttpContext) {
    const { request, bouncer, session, response, i18n } = ctx
    await bouncer.authorize('permit', 'terminals.manage')
    const input = await request.validateUsing(terminalFormValidator, {
      data: withoutBlanks(request.all()),
    })
    let shopId: number | null = null
    if (input.shop) {
      const shops = await shopOptions()
      const shop = shops.find((option) => option.value === input.shop)
      if (!shop) {
        session.flash('error', i18n.t('terminals.errors.shop_not_found'))
        return response.redirect().back()
      }
      shopId = shop.id
    }
    const result = await createTerminal(actorFrom(ctx), {
      name: input.name,
      kind: input.kind,
      location: input.location ?? null,
      shopId,
      enrollmentHours: input.enrollmentHours,
      offlineCountPerDay: input.offlineCountPerDay ?? null,
      offlineAmountPerDay: input.offlineAmountPerDay ?? null,
      offlineSingleAmount: input.offlineSingleAmount ?? null,
    })
    if (!result.ok) return response.redirect('/console/terminals')
    return codePage(ctx, result.value)
  }

  async show({ params, view, bouncer, response }: HttpContext) {
    await bouncer.authorize('permit', 'terminals.manage')
    const { publicId } = await terminalParamsValidator.validate(params)
    const terminal = await Terminal.findBy('public_id', publicId)
    if (!terminal) return response.notFound()
    const shop = terminal.shopId
      ? await db.from('shops').where('id', terminal.shopId).select('public_id', 'name').first()
      : null
    return view.render('pages/terminals/show', {
      terminal,
      connection: connectionOf(terminal),
      limits: await offlineLimitsFor(terminal),
      shop,
      maxDrift: TERMINAL_SETTINGS.maxClockDriftSeconds,
    })
  }

  async edit({ params, view, bouncer, response }: HttpContext) {
    await bouncer.authorize('permit', 'terminals.manage')
    const { publicId } = await terminalParamsValidator.validate(params)
    const terminal = await Terminal.findBy('public_id', publicId)
    if (!terminal) return response.notFound()
    const shops = await shopOptions()
    return view.render('pages/terminals/edit', {
      terminal,
      shopValue: shops.find((shop) => shop.id === terminal.shopId)?.value ?? '',
      shopOptions: [{ value: '', label: '—' }, ...shops],
    })
  }

  async update(ctx: HttpContext) {
    const { params, request, bouncer, session, response, i18n } = ctx
    await bouncer.authorize('permit', 'terminals.manage')
    const { publicId } = await terminalParamsValidator.validate(params)
    const input = await request.validateUsing(terminalEditValidator, {
      data: withoutBlanks(request.all()),
    })
    let shopId: number | null = null
    if (input.shop) {
      const shops = await shopOptions()
      const shop = shops.find((option) => option.value === input.shop)
      if (!shop) {
        session.flash('error', i18n.t('terminals.errors.shop_not_found'))
        return response.redirect().back()
      }
      shopId = shop.id
    }
    const result = await updateTerminal(actorFrom(ctx), publicId, {
      name: input.name,
      location: input.location ?? null,
      shopId,
      offlineCountPerDay: input.offlineCountPerDay ?? null,
      offlineAmountPerDay: input.offlineAmountPerDay ?? null,
      offlineSingleAmount: input.offlineSingleAmount ?? null,
    })
    if (!result.ok) session.flash('error', i18n.t(`terminals.errors.${result.error}`))
    else session.flash('notice', i18n.t('terminals.saved'))
    return response.redirect(`/console/terminals/${publicId}`)
  }

  /** The default offline limits per terminal kind. */
  async limits({ view, bouncer }: HttpContext) {
    await bouncer.authorize('permit', 'terminals.manage')
    const limits = await kindOfflineLimits()
    return view.render('pages/terminals/limits', {
      kinds: TERMINAL_KINDS.map((kind) => ({
        kind,
        limits: limits.get(kind) ?? { countPerDay: 0, amountPerDay: 0, singleAmount: 0 },
      })),
    })
  }

  async saveLimits(ctx: HttpContext) {
    const { request, bouncer, session, response, i18n } = ctx
    await bouncer.authorize('permit', 'terminals.manage')
    const input = await request.validateUsing(kindLimitsValidator)
    const limits = new Map<(typeof TERMINAL_KINDS)[number], TerminalOfflineLimits>(
      TERMINAL_KINDS.map((kind) => [kind, input[kind]])
    )
    await saveKindOfflineLimits(actorFrom(ctx), limits)
    session.flash('notice', i18n.t('terminals.saved'))
    return response.redirect('/console/terminals/offline-limits')
  }

  async enrollmentCode(ctx: HttpContext) {
    const { params, request, bouncer, session, response, i18n } = ctx
    await bouncer.authorize('permit', 'terminals.manage')
    const { publicId } = await terminalParamsValidator.validate(params)
    const input = await request.validateUsing(enrollmentCodeValidator, {
      data: withoutBlanks(request.all()),
    })
    const result = await newEnrollmentCodeFor(actorFrom(ctx), publicId, input.enrollmentHours)
    if (!result.ok) {
      session.flash('error', i18n.t(`terminals.errors.${result.error}`))
      return response.redirect(`/console/terminals/${publicId}`)
    }
    return codePage(ctx, result.value)
  }

  async revoke(ctx: HttpContext) {
    const { params, request, bouncer, session, response, i18n } = ctx
    await bouncer.authorize('permit', 'terminals.manage')
    const { publicId } = await terminalParamsValidator.validate(params)
    const input = await request.validateUsing(revokeValidator, {
      data: withoutBlanks(request.all()),
    })
    const result = await revokeTerminal(actorFrom(ctx), publicId, input.reason ?? null)
    if (!result.ok) session.flash('error', i18n.t(`terminals.errors.${result.error}`))
    else session.flash('notice', i18n.t('terminals.revoked'))
    return response.redirect(`/console/terminals/${publicId}`)
  }
}
