import type { HttpContext } from '@adonisjs/core/http'
import { actorFrom } from '#core/http/actor'
import { currentSchool, schoolTimeZone } from '#appliance/services/school_settings'
import LedgerTransfer from '#ledger/models/ledger_transfer'
import { ReverseTransfer } from '#ledger/actions/reverse_transfer'
import { accountLabel, transferKindLabel } from '#ledger/services/ledger_labels'
import { receiptNumber } from '#ledger/services/receipts'
import { WALLET_KINDS } from '#ledger/services/account_kinds'
import { newFormKey, notFound } from '#ledger/controllers/wallets_controller'
import {
  publicIdParamsValidator,
  reversalValidator,
  withoutBlanks,
} from '#ledger/validators/ledger'

/** The transfer in the URL with its postings, each with its account and the account's person. */
async function transferFromParams(params: Record<string, unknown>) {
  const [error, input] = await publicIdParamsValidator.tryValidate(params)
  if (error) return null
  return LedgerTransfer.query()
    .where('public_id', input.publicId)
    .preload('postings', (postings) =>
      postings.orderBy('id').preload('account', (account) => account.preload('person'))
    )
    .first()
}

export default class TransfersController {
  /** One transfer: its postings, what it reverses or refers to, and what followed it. */
  async show(ctx: HttpContext) {
    const { view, bouncer, i18n, auth } = ctx
    await bouncer.authorize('permit', 'ledger.read')
    const transfer = await transferFromParams(ctx.params)
    if (!transfer) return notFound(ctx)
    const t = i18n.t.bind(i18n)
    const related = await LedgerTransfer.query()
      .whereIn(
        'id',
        [transfer.reversesTransferId, transfer.refersToTransferId].filter(
          (id): id is number => id !== null
        )
      )
      .orWhere('reverses_transfer_id', transfer.id)
      .orWhere('refers_to_transfer_id', transfer.id)
      .orderBy('id')
    const reversal = related.find((other) => other.reversesTransferId === transfer.id) ?? null
    const canReverse =
      auth.user!.can('ledger.write') && transfer.reversesTransferId === null && reversal === null
    return view.render('pages/ledger/transfer', {
      transfer,
      kindLabel: transferKindLabel(transfer.kind, t),
      postings: transfer.postings.map((posting) => ({
        posting,
        label: accountLabel(posting.account, t),
        person: posting.account.person ?? null,
      })),
      original: related.find((other) => other.id === transfer.reversesTransferId) ?? null,
      refersTo: related.find((other) => other.id === transfer.refersToTransferId) ?? null,
      reversal,
      followUps: related
        .filter((other) => other.refersToTransferId === transfer.id)
        .map((other) => ({ transfer: other, kindLabel: transferKindLabel(other.kind, t) })),
      isTopUp: transfer.kind === 'top_up',
      formKey: canReverse ? newFormKey() : null,
    })
  }

  /** The printable receipt of a counter top-up. */
  async receipt(ctx: HttpContext) {
    const { view, bouncer } = ctx
    await bouncer.authorize('permit', 'ledger.read')
    const transfer = await transferFromParams(ctx.params)
    if (!transfer || transfer.kind !== 'top_up') return notFound(ctx)
    const credited = transfer.postings.find(
      (posting) => posting.account.kind === WALLET_KINDS.cash && posting.amount > 0
    )
    if (!credited?.account.person) return notFound(ctx)
    const zone = schoolTimeZone()
    return view.render('pages/ledger/receipt', {
      transfer,
      school: await currentSchool(),
      person: credited.account.person,
      balanceAfter: credited.balanceAfter,
      number: receiptNumber(transfer, zone),
      reversed: (await LedgerTransfer.findBy('reverses_transfer_id', transfer.id)) !== null,
    })
  }

  /** Books the reversal of a transfer; a second submit of the same form books nothing more. */
  async reverse(ctx: HttpContext) {
    const { request, response, session, i18n, bouncer } = ctx
    await bouncer.authorize('permit', 'ledger.write')
    const [paramsError, params] = await publicIdParamsValidator.tryValidate(ctx.params)
    if (paramsError) return notFound(ctx)
    const back = `/console/ledger/transfers/${params.publicId}`
    const [error, data] = await reversalValidator.tryValidate(withoutBlanks(request.all()))
    if (error) {
      session.flash('error', i18n.t('ledger.reversal.invalid'))
      return response.redirect(back)
    }
    const result = await new ReverseTransfer().handle({
      transfer: { publicId: params.publicId },
      idempotencyKey: data.idempotencyKey,
      memo: data.memo ?? null,
      actor: actorFrom(ctx),
    })
    if (!result.ok) {
      if (result.error === 'unknown_transfer') return notFound(ctx)
      session.flash('error', i18n.t(`ledger.reversal.errors.${result.error}`, {}, result.error))
      return response.redirect(back)
    }
    session.flash(
      result.value.replayed ? 'warning' : 'notice',
      i18n.t(result.value.replayed ? 'ledger.reversal.replayed' : 'ledger.reversal.booked')
    )
    return response.redirect(`/console/ledger/transfers/${result.value.publicId}`)
  }
}
