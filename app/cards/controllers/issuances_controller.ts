import type { HttpContext } from '@adonisjs/core/http'
import { DateTime } from 'luxon'
import { actorFrom } from '#core/http/actor'
import { NEVER_FLASHED } from '#core/http/flash'
import Audience from '#identity/models/audience'
import CardIssuance, { ISSUANCE_TARGETS } from '#cards/models/card_issuance'
import CardType from '#cards/models/card_type'
import { IssueCards } from '#cards/actions/issue_cards'
import { IssueCard } from '#cards/actions/issue_card'
import { MAX_LISTED, parsePastedList, readListFile } from '#cards/services/person_lists'
import { schoolZone } from '#cards/services/school_zone'
import {
  issuanceValidator,
  issueOneValidator,
  publicIdParamsValidator,
  withoutBlanks,
} from '#cards/validators/cards'

const FORM = '/console/card-issuances'

/** The longest pasted list kept to refill the form after a refusal. */
const MAX_REFILLED_LIST = 20_000

/** Upload limit of a person-number list. */
const MAX_LIST_BYTES = 5 * 1024 * 1024

/** A datetime-local value read in the school's time zone. */
function windowOf(from: string | undefined, until: string | undefined, zone: string) {
  if (!from || !until) return null
  return {
    from: DateTime.fromISO(from, { zone }),
    until: DateTime.fromISO(until, { zone }),
  }
}

async function issuanceFrom(params: Record<string, unknown>) {
  const [error, input] = await publicIdParamsValidator.tryValidate(params)
  if (error) return null
  return CardIssuance.query()
    .where('public_id', input.publicId)
    .preload('cardType')
    .preload('audience')
    .first()
}

export default class IssuancesController {
  /** The issuance form and the latest issuances. */
  async create({ view, bouncer, i18n, request }: HttpContext) {
    await bouncer.authorize('permit', 'cards.read')
    const t = i18n.t.bind(i18n)
    const types = await CardType.query().where('enabled', true).orderBy('sort_order').orderBy('id')
    const audiences = await Audience.query().whereNull('archived_at').orderBy('name')
    const recent = await CardIssuance.query().preload('cardType').orderBy('id', 'desc').limit(20)
    const chosen = String(request.qs().type ?? '')
    return view.render('pages/cards/issuances/create', {
      typeOptions: types.map((type) => ({
        value: type.publicId,
        label: type.isTemporary
          ? t('cards.issuance.temporary_type', { name: type.nameIn(i18n.locale) })
          : type.nameIn(i18n.locale),
      })),
      chosenType: types.some((type) => type.publicId === chosen)
        ? chosen
        : (types[0]?.publicId ?? ''),
      targetOptions: ISSUANCE_TARGETS.map((value) => ({
        value,
        label: t(`cards.issuance.targets.${value}`),
      })),
      audienceOptions: [
        { value: '', label: t('cards.issuance.choose_audience') },
        ...audiences.map((audience) => ({ value: audience.publicId, label: audience.name })),
      ],
      recent: recent.map((issuance) => ({
        issuance,
        typeName: issuance.cardType.nameIn(i18n.locale),
      })),
      maxListed: MAX_LISTED,
    })
  }

  /** Reads the target (a pasted list or an uploaded file when the target is a list) and queues the issuance. */
  async store(ctx: HttpContext) {
    const { request, response, session, i18n, bouncer } = ctx
    await bouncer.authorize('permit', 'cards.write')
    const refuse = (code: string, params: Record<string, unknown> = {}) => {
      // A long pasted list is not kept in the session to refill the form.
      session.flashExcept([...NEVER_FLASHED, 'list'])
      const list = request.input('list')
      if (typeof list === 'string' && list.length <= MAX_REFILLED_LIST) session.flash('list', list)
      session.flash('error', i18n.t(`cards.errors.${code}`, params))
      return response.redirect(FORM)
    }
    const [error, input] = await issuanceValidator.tryValidate(withoutBlanks(request.all()))
    if (error) return refuse('issuance_invalid')

    let list = null
    let sourceName: string | null = null
    if (input.target === 'list') {
      const file = request.file('file', {
        size: MAX_LIST_BYTES,
        extnames: ['csv', 'xlsx', 'txt'],
      })
      if (file && !file.isValid) {
        const tooLarge = file.errors.some((problem) => problem.type === 'size')
        return refuse(tooLarge ? 'list_file_too_large' : 'not_spreadsheet', {
          limit: MAX_LIST_BYTES / 1024 / 1024,
        })
      }
      const read = file?.tmpPath
        ? await readListFile(file.tmpPath)
        : parsePastedList(input.list ?? '')
      if (!read.ok) return refuse(read.error, { limit: MAX_LISTED })
      list = read.value
      sourceName = file?.clientName ?? i18n.t('cards.issuance.pasted')
    }
    const result = await new IssueCards().handle(
      {
        cardType: input.cardType,
        target: input.target,
        audience: input.audience ?? null,
        list,
        sourceName,
        window: windowOf(input.validFrom, input.validUntil, await schoolZone()),
      },
      actorFrom(ctx)
    )
    if (!result.ok) return refuse(result.error, { limit: MAX_LISTED })
    session.flash('notice', i18n.t('cards.issuance.queued'))
    return response.redirect(`/console/card-issuances/${result.value}`)
  }

  /** An issuance's progress or outcome, with its row errors. */
  async show(ctx: HttpContext) {
    const { view, bouncer, i18n } = ctx
    await bouncer.authorize('permit', 'cards.read')
    const issuance = await issuanceFrom(ctx.params)
    if (!issuance) {
      ctx.response.status(404)
      return view.render('pages/errors/status', { status: 404 })
    }
    return view.render('pages/cards/issuances/show', {
      issuance,
      typeName: issuance.cardType.nameIn(i18n.locale),
      percent: issuance.totalCount
        ? Math.floor((issuance.doneCount / issuance.totalCount) * 100)
        : 0,
      errors: issuance.errors.map((row) => ({
        ...row,
        message: i18n.t(`cards.issuance.row_errors.${row.code}`),
      })),
    })
  }

  /** The progress the page's script polls (the same shape as an import's). */
  async progress({ params, response, bouncer }: HttpContext) {
    await bouncer.authorize('permit', 'cards.read')
    const issuance = await issuanceFrom(params)
    if (!issuance) return response.notFound({ error: 'not_found' })
    response.header('cache-control', 'no-store')
    return { status: issuance.status, done: issuance.doneCount, total: issuance.totalCount }
  }

  /** Issues one card to the person in the URL (the cards panel of the person page). */
  async issueOne(ctx: HttpContext) {
    const { request, response, session, i18n, bouncer } = ctx
    await bouncer.authorize('permit', 'cards.write')
    const [paramsError, params] = await publicIdParamsValidator.tryValidate(ctx.params)
    if (paramsError) return response.notFound()
    const back = `/console/people/${params.publicId}#cards`
    const [error, input] = await issueOneValidator.tryValidate(withoutBlanks(request.all()))
    if (error) {
      session.flash('error', i18n.t('cards.errors.issuance_invalid'))
      return response.redirect(back)
    }
    const result = await new IssueCard().handle(
      {
        person: { publicId: params.publicId },
        cardType: { publicId: input.cardType },
        window: windowOf(input.validFrom, input.validUntil, await schoolZone()),
      },
      actorFrom(ctx)
    )
    if (!result.ok) {
      if (result.error === 'person_not_found') return response.notFound()
      session.flash('error', i18n.t(`cards.errors.${result.error}`))
      return response.redirect(back)
    }
    session.flash('notice', i18n.t('cards.issuance.issued_one'))
    return response.redirect(`/console/cards/${result.value.publicId}`)
  }
}
