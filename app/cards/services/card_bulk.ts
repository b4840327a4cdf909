import type { DateTime } from 'luxon'
import quadConfig from '#config/quad'
import type { AuditActor } from '#core/services/audit'
import Card from '#cards/models/card'
import { FreezeCard } from '#cards/actions/freeze_card'
import { UnfreezeCard } from '#cards/actions/unfreeze_card'
import { RevokeCard } from '#cards/actions/revoke_card'
import { ReissueCard } from '#cards/actions/reissue_card'
import { ExtendCard } from '#cards/actions/extend_card'
import type { FreezeReason } from '#cards/services/card_rules'
import { searchCards, type CardFilters } from '#cards/services/card_directory'

export const BULK_ACTIONS = ['freeze', 'unfreeze', 'revoke', 'reissue', 'extend'] as const
export type BulkAction = (typeof BULK_ACTIONS)[number]

/** The most cards one bulk request changes at once (config/quad.ts, cardsBulk). */
export function bulkInlineLimit(): number {
  return quadConfig.cardsBulk.inlineLimit
}

export interface BulkInput {
  action: BulkAction
  reason?: FreezeReason
  note?: string | null
  /** The new end of validity (extend). */
  until?: DateTime
}

export interface BulkOutcome {
  publicId: string
  cardNo: string | null
  ok: boolean
  error?: string
  from?: string
}

export interface BulkReport {
  action: BulkAction
  outcomes: BulkOutcome[]
  done: number
  /** Refusals by reason ("invalid_transition:frozen" → 2). */
  skipped: Record<string, number>
}

/** The public ids of every card the list's filter selects, newest first, up to `limit`. */
export async function cardIdsMatching(filters: CardFilters, limit: number) {
  const page = await searchCards(filters, 1, limit)
  return { ids: page.all().map((card) => card.publicId), total: page.total }
}

async function applyOne(publicId: string, input: BulkInput, actor: AuditActor) {
  const card = { publicId }
  const note = input.note ?? ''
  switch (input.action) {
    case 'freeze':
      return new FreezeCard().handle(
        { card, by: 'admin', reason: input.reason ?? 'admin', note },
        actor
      )
    case 'unfreeze':
      return new UnfreezeCard().handle({ card, note: input.note }, actor)
    case 'revoke':
      return new RevokeCard().handle({ card, note }, actor)
    case 'reissue':
      return new ReissueCard().handle({ card, note }, actor)
    case 'extend':
      return new ExtendCard().handle({ card, note, until: input.until! }, actor)
  }
}

/**
 * Applies one action to each card through the card's own action, each in
 * its own transaction, so every card gets its history entry and audit entry
 * and one refusal does not undo the others.
 */
export async function applyBulk(
  publicIds: string[],
  input: BulkInput,
  actor: AuditActor
): Promise<BulkReport> {
  const unique = [...new Set(publicIds)]
  const known = await Card.query().whereIn('public_id', unique).select('public_id', 'card_no')
  const numbers = new Map(known.map((card) => [card.publicId, card.cardNo]))
  const report: BulkReport = { action: input.action, outcomes: [], done: 0, skipped: {} }
  for (const publicId of unique) {
    const cardNo = numbers.get(publicId) ?? null
    if (cardNo === null) {
      report.outcomes.push({ publicId, cardNo, ok: false, error: 'not_found' })
      report.skipped.not_found = (report.skipped.not_found ?? 0) + 1
      continue
    }
    const result = await applyOne(publicId, input, actor)
    if (result.ok) {
      report.done += 1
      report.outcomes.push({ publicId, cardNo, ok: true })
      continue
    }
    const from = typeof result.details?.from === 'string' ? result.details.from : undefined
    const key = from ? `${result.error}:${from}` : result.error
    report.skipped[key] = (report.skipped[key] ?? 0) + 1
    report.outcomes.push({ publicId, cardNo, ok: false, error: result.error, from })
  }
  return report
}
