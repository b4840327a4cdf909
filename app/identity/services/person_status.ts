import type { PersonStatus } from '#identity/models/person'

/**
 * Which status may follow which. Every change needs a reason. A suspension
 * ends by returning to active or by leaving for good; graduates and leavers
 * come back (re-enrollment, re-hiring) through active.
 */
export const STATUS_TRANSITIONS: Readonly<Record<PersonStatus, readonly PersonStatus[]>> = {
  active: ['suspended', 'graduated', 'left'],
  suspended: ['active', 'graduated', 'left'],
  graduated: ['active', 'left'],
  left: ['active'],
}

/** True when a person in status `from` may move to status `to`. */
export function canChangeStatus(from: PersonStatus, to: PersonStatus): boolean {
  return STATUS_TRANSITIONS[from].includes(to)
}

/** The longest reason kept for a change. */
export const MAX_REASON_LENGTH = 500
