import type { HttpContext } from '@adonisjs/core/http'
import type { errors as vineErrors } from '@vinejs/vine'
import { newPublicId } from '#core/services/ids'
import { fail, ok, type Result } from '#core/services/result'
import Person from '#identity/models/person'
import { portalActorFrom } from '#identity/http/portal_session'
import { CardToCardTransfer } from '#ledger/actions/card_to_card'
import { formatFen, Money } from '#ledger/services/money'
import { walletSettings } from '#ledger/services/wallet_settings'
import {
  cardToCardConfirmValidator,
  cardToCardReviewValidator,
} from '#ledger/validators/portal_transfer'
import {
  checkPin,
  hasPin,
  PIN_LOCK_MINUTES,
  PIN_MAX_FAILURES,
} from '#merchants/services/payment_pins'

const FORM = '/portal/wallet/transfer'

/**
 * A name as the sender sees it before confirming: enough to recognise a
 * classmate ("张*三"), not enough to read the directory through the form.
 */
export function maskedName(name: string): string {
  const chars = Array.from(String(name ?? '').trim())
  if (chars.length <= 1) return '*'
  if (chars.length === 2) return `${chars[0]}*`
  return `${chars[0]}${'*'.repeat(chars.length - 2)}${chars[chars.length - 1]}`
}

type DraftError =
  'invalid_amount' | 'amount_out_of_range' | 'unknown_recipient' | 'same_person' | 'person_inactive'

interface Draft {
  recipient: Person
  amount: number
}

/**
 * What the form asks for, checked as far as it can be before booking: the
 * amount in fen (parsed from the typed yuan, never through floating point)
 * within the per-transfer limit, and a recipient who is someone else and
 * active. The action checks all of it again, with the day's limit and funds.
 */
async function draftOf(
  sender: Person,
  input: { recipient: string; amount: string },
  maxPerTransfer: number
): Promise<Result<Draft, DraftError>> {
  const money = Money.parse(input.amount)
  if (!money.ok) return fail('invalid_amount')
  const amount = money.value.fen
  if (amount < 1 || amount > maxPerTransfer)
    return fail('amount_out_of_range', { max: maxPerTransfer })
  const recipient = await Person.query().where('person_no', input.recipient.toUpperCase()).first()
  if (!recipient) return fail('unknown_recipient')
  if (recipient.id === sender.id) return fail('same_person')
  if (recipient.status !== 'active') return fail('person_inactive')
  return ok({ recipient, amount })
}

/** Which refusal a form that did not validate gets. */
function formProblem(error: InstanceType<typeof vineErrors.E_VALIDATION_ERROR> | null) {
  const fields = ((error?.messages ?? []) as { field: string }[]).map((message) => message.field)
  if (fields.includes('recipient')) return 'unknown_recipient'
  if (fields.includes('amount')) return 'invalid_amount'
  if (fields.includes('memo')) return 'invalid_memo'
  return 'invalid_key'
}

/**
 * The portal's card-to-card transfer (/portal/wallet/transfer, 转账): the
 * holder enters a recipient's person number and an amount, checks the
 * recipient's masked name, then confirms with the payment PIN. Each confirm
 * form carries its own key, so a double submission books once.
 */
export default class PortalTransferController {
  async show(ctx: HttpContext) {
    const { person } = ctx.portal!
    const { cardToCard } = await walletSettings()
    return ctx.view.render('pages/ledger/portal_transfer', {
      settings: cardToCard,
      hasPin: cardToCard.enabled ? await hasPin(person.id) : false,
    })
  }

  /** The confirm step: the recipient's masked name, the amount, the PIN. */
  async review(ctx: HttpContext) {
    const { request, view } = ctx
    const { person } = ctx.portal!
    const { cardToCard } = await walletSettings()
    if (!cardToCard.enabled) return this.refuse(ctx, 'disabled')
    const [error, data] = await cardToCardReviewValidator.tryValidate(request.all())
    if (error || !data) return this.refuse(ctx, formProblem(error), {}, request.all())
    const draft = await draftOf(person, data, cardToCard.maxPerTransfer)
    if (!draft.ok) return this.refuse(ctx, draft.error, draft.details, data)
    return view.render('pages/ledger/portal_transfer_confirm', {
      recipientNo: draft.value.recipient.personNo,
      recipientName: maskedName(draft.value.recipient.name),
      amount: draft.value.amount,
      amountText: Money.ofFen(draft.value.amount).toDecimal(),
      memo: data.memo ?? '',
      hasPin: await hasPin(person.id),
      idempotencyKey: newPublicId(),
    })
  }

  /** Books the confirmed transfer and shows its receipt (the first one's, when submitted twice). */
  async book(ctx: HttpContext) {
    const { request, view } = ctx
    const { person } = ctx.portal!
    const { cardToCard } = await walletSettings()
    if (!cardToCard.enabled) return this.refuse(ctx, 'disabled')
    const [error, data] = await cardToCardConfirmValidator.tryValidate(request.all())
    if (error || !data) return this.refuse(ctx, formProblem(error), {}, request.all())
    const draft = await draftOf(person, data, cardToCard.maxPerTransfer)
    if (!draft.ok) return this.refuse(ctx, draft.error, draft.details, data)
    const actor = portalActorFrom(ctx, person)
    const pin = await checkPin({ id: person.id, publicId: person.publicId }, data.pin ?? '', actor)
    if (!pin.ok) return this.refuse(ctx, pin.error, pin.details, data)
    const result = await new CardToCardTransfer().handle({
      fromPersonPublicId: person.publicId,
      toPersonPublicId: draft.value.recipient.publicId,
      amount: draft.value.amount,
      memo: data.memo || null,
      idempotencyKey: `portal-c2c:${person.publicId}:${data.idempotencyKey}`,
      actor,
    })
    if (!result.ok) return this.refuse(ctx, result.error, result.details, data)
    const sent = result.value.postings.find((posting) => posting.amount < 0)
    return view.render('pages/ledger/portal_transferred', {
      transfer: result.value,
      recipientName: maskedName(draft.value.recipient.name),
      recipientNo: draft.value.recipient.personNo,
      balanceAfter: sent?.balanceAfter ?? null,
    })
  }

  /**
   * Back to the form with the refusal in the reader's language and what
   * they typed (never the PIN).
   */
  private refuse(
    ctx: HttpContext,
    error: string,
    details: Record<string, unknown> = {},
    input: Record<string, unknown> = {}
  ) {
    const { session, i18n, response } = ctx
    const data: Record<string, unknown> = {
      ...details,
      triesMax: PIN_MAX_FAILURES,
      minutes: PIN_LOCK_MINUTES,
    }
    if (typeof details.max === 'number') data.max = formatFen(details.max)
    if (typeof details.max === 'number' && typeof details.sent === 'number')
      data.left = formatFen(Math.max(0, details.max - details.sent))
    session.flash(
      'error',
      i18n.t(
        `ledger.portal_transfer.errors.${error}`,
        data,
        i18n.t('ledger.portal_transfer.errors.failed')
      )
    )
    const typed = (name: string) => (typeof input[name] === 'string' ? input[name] : '')
    session.flash({ recipient: typed('recipient'), amount: typed('amount'), memo: typed('memo') })
    return response.redirect(FORM)
  }
}
