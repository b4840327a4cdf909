import type { DateTime } from 'luxon'

/**
 * The number printed on a receipt: the booking day in the school's time zone
 * and the transfer's number, e.g. 20261128-00001234. Derived, never stored:
 * a retried request gets the first transfer and so the same receipt number,
 * and the number leads back to the transfer.
 */
export function receiptNumber(transfer: { id: number; bookedAt: DateTime }, zone: string): string {
  return `${transfer.bookedAt.setZone(zone).toFormat('yyyyMMdd')}-${String(transfer.id).padStart(8, '0')}`
}
