/**
 * Payment channels: the ways money reaches a cash wallet from outside the
 * ledger. Each channel books its top-ups against its own clearing account
 * (money received through the channel and not yet matched with the bank),
 * so that the channel-reconciliation report can set each day's top-ups
 * against what the clearing account moved.
 *
 * The counter (a cashier taking cash at the service desk) is implemented;
 * WeChat Pay, Alipay, UnionPay and bank withholding are declared, for the
 * online adapters that will implement `topUp` and `statement`.
 */
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import type { AuditActor } from '#core/services/audit'
import type { Result } from '#core/services/result'
import type { BookedTransfer } from '#ledger/actions/post_transfer'
import type { SystemAccountCode } from '#ledger/services/account_kinds'

export const CHANNEL_CODES = ['counter', 'wechat_pay', 'alipay', 'unionpay', 'bank'] as const
export type ChannelCode = (typeof CHANNEL_CODES)[number]

export interface ChannelTopUp {
  personPublicId: string
  amount: number
  idempotencyKey: string
  memo?: string | null
  actor: AuditActor
}

/** One day's total as the channel itself reports it (its settlement file). */
export interface ChannelStatementDay {
  day: string
  amount: number
  count: number
}

export interface PaymentChannel {
  code: ChannelCode
  /** The system account the channel's top-ups are booked against. */
  clearingAccount: SystemAccountCode | null
  /** False for channels declared but not yet connected. */
  available: boolean
  online: boolean
  topUp(
    input: ChannelTopUp,
    trx?: TransactionClientContract
  ): Promise<Result<BookedTransfer, string>>
  /** The channel's own totals for a day, when it has a statement to compare with. */
  statement?(day: string, zone: string): Promise<ChannelStatementDay | null>
}

const notConnected = async (): Promise<Result<BookedTransfer, string>> => ({
  ok: false,
  error: 'channel_unavailable',
})

const counter: PaymentChannel = {
  code: 'counter',
  clearingAccount: 'counter_clearing',
  available: true,
  online: false,
  async topUp(input, trx) {
    const { TopUpAtCounter } = await import('#ledger/actions/top_up_at_counter')
    return new TopUpAtCounter().handle(input, trx)
  },
}

function declared(code: ChannelCode): PaymentChannel {
  return { code, clearingAccount: null, available: false, online: true, topUp: notConnected }
}

const CHANNELS: Record<ChannelCode, PaymentChannel> = {
  counter,
  wechat_pay: declared('wechat_pay'),
  alipay: declared('alipay'),
  unionpay: declared('unionpay'),
  bank: declared('bank'),
}

export function paymentChannel(code: string): PaymentChannel | null {
  return (CHANNEL_CODES as readonly string[]).includes(code) ? CHANNELS[code as ChannelCode] : null
}

export function paymentChannels(): PaymentChannel[] {
  return CHANNEL_CODES.map((code) => CHANNELS[code])
}
