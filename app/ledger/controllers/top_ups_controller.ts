import type { HttpContext } from '@adonisjs/core/http'
import { errors as vineErrors } from '@vinejs/vine'
import { actorFrom } from '#core/http/actor'
import { NEVER_FLASHED } from '#core/http/flash'
import { MAX_COUNTER_TOP_UP, TopUpAtCounter } from '#ledger/actions/top_up_at_counter'
import { formatFen, Money } from '#ledger/services/money'
import { ledgerPerson, notFound } from '#ledger/controllers/wallets_controller'
import { topUpValidator, withoutBlanks } from '#ledger/validators/ledger'

/** Errors that belong to the amount field; the others are shown above the form. */
const AMOUNT_ERRORS = new Set([
  'amount_invalid',
  'amount_precision',
  'amount_too_large',
  'amount_out_of_range',
])

export default class TopUpsController {
  /** A cashier's top-up of a person's cash wallet; on success, the receipt. */
  async store(ctx: HttpContext) {
    const { request, response, session, i18n, bouncer } = ctx
    await bouncer.authorize('permit', 'ledger.write')
    const person = await ledgerPerson(ctx.params)
    if (!person) return notFound(ctx)
    const back = `/console/ledger/people/${person.publicId}`

    const [error, data] = await topUpValidator.tryValidate(withoutBlanks(request.all()), {
      messagesProvider: i18n.createMessagesProvider(),
    })
    const parsed = data ? Money.parse(data.amount) : null
    const problem = parsed && !parsed.ok ? parsed.error : null
    if (error || !data || problem) {
      const bag: Record<string, string[]> = {}
      if (error instanceof vineErrors.E_VALIDATION_ERROR) {
        for (const message of error.messages as { field: string; message: string }[]) {
          ;(bag[message.field] ??= []).push(message.message)
        }
      }
      if (problem) bag.amount = [i18n.t(`ledger.top_up.errors.${problem}`)]
      return backWithErrors(ctx, back, bag)
    }

    const result = await new TopUpAtCounter().handle({
      personPublicId: person.publicId,
      amount: parsed!.ok ? parsed!.value.fen : 0,
      idempotencyKey: data.idempotencyKey,
      memo: data.memo ?? null,
      actor: actorFrom(ctx),
    })
    if (!result.ok) {
      if (result.error === 'person_not_found') return notFound(ctx)
      const message = i18n.t(`ledger.top_up.errors.${result.error}`, {
        max: formatFen(MAX_COUNTER_TOP_UP),
      })
      if (AMOUNT_ERRORS.has(result.error)) return backWithErrors(ctx, back, { amount: [message] })
      session.flash('error', message)
      return response.redirect(back)
    }
    const amount = formatFen(result.value.amount)
    session.flash(
      result.value.replayed ? 'warning' : 'notice',
      i18n.t(result.value.replayed ? 'ledger.top_up.replayed' : 'ledger.top_up.booked', {
        amount,
        name: person.name,
      })
    )
    return response.redirect(`/console/ledger/transfers/${result.value.publicId}/receipt`)
  }
}

function backWithErrors(
  { session, response, i18n }: HttpContext,
  back: string,
  bag: Record<string, string[]>
) {
  session.flashExcept([...NEVER_FLASHED, 'idempotencyKey'])
  session.flash('inputErrorsBag', bag)
  session.flash('error', i18n.t('ledger.top_up.not_booked'))
  return response.redirect(back)
}
