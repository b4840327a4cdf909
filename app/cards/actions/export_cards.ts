import type { DateTime } from 'luxon'
import i18nManager from '@adonisjs/i18n/services/main'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { writeCsv, writeXlsx, type SpreadsheetFormat } from '#identity/services/spreadsheet'
import { searchCards, type CardFilters } from '#cards/services/card_directory'
import { formatCardNo } from '#cards/services/card_numbers'
import { schoolZone } from '#cards/services/school_zone'

/** The most rows one export writes. */
export const MAX_EXPORT_ROWS = 100_000

export interface ExportCardsInput {
  filters: CardFilters
  format: SpreadsheetFormat
  locale: string
}

const COLUMNS = [
  'number',
  'person',
  'person_no',
  'org_unit',
  'type',
  'state',
  'valid_from',
  'valid_until',
  'activated_at',
] as const

/**
 * Writes the cards matching the list's filters as CSV (UTF-8 with BOM) or
 * XLSX, times in the school's time zone. Every export is audited with its
 * filters, format and size.
 */
export class ExportCards {
  async handle(
    input: ExportCardsInput,
    actor: AuditActor
  ): Promise<{ bytes: Buffer; count: number }> {
    const i18n = i18nManager.locale(input.locale)
    const zone = await schoolZone()
    const time = (value: DateTime | null) =>
      value ? value.setZone(zone).toFormat('yyyy-MM-dd HH:mm') : ''
    const page = await searchCards(input.filters, 1, MAX_EXPORT_ROWS)
    const headers = COLUMNS.map((column) => i18n.t(`cards.export.columns.${column}`))
    const rows = page
      .all()
      .map((card) => [
        formatCardNo(card.cardNo),
        card.person.name,
        card.person.personNo,
        card.person.orgUnit?.name ?? '',
        card.cardType.nameIn(input.locale),
        i18n.t(`cards.states.${card.state}`),
        time(card.validFrom),
        card.validUntil ? time(card.validUntil) : i18n.t('cards.card.no_end'),
        time(card.activatedAt),
      ])
    const bytes =
      input.format === 'csv' ? writeCsv(headers, rows) : await writeXlsx('cards', headers, rows)
    await recordAudit(actor, {
      action: 'cards.exported',
      subjectType: 'card',
      meta: { filters: input.filters, format: input.format, count: rows.length },
    })
    return { bytes, count: rows.length }
  }
}
