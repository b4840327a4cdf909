import type { PersonStatus } from '#identity/models/person'

/**
 * What a directory sync run found, as the console and the command show it:
 * a count per category and the first rows of each. Rows hold what a person
 * page shows (masked phone numbers), never a secret.
 */

/** Rows kept per category; the counts cover every row. */
export const DIFF_ROWS_KEPT = 50

export interface FieldChange {
  field: string
  before: unknown
  after: unknown
}

export interface PersonRow {
  personNo: string
  name: string
  dn: string
  /** A person already in the registry (not from this source) whom the source now keeps up to date. */
  adopted?: boolean
  fields?: FieldChange[]
}

/** suspended / left: the status the run sets; kept: the person stays as they are. */
export type VanishedOutcome = 'suspended' | 'left' | 'kept'

export interface VanishedRow {
  personNo: string
  name: string
  dn: string
  status: PersonStatus
  outcome: VanishedOutcome
}

export interface EntryError {
  field: string
  code: string
  params?: Record<string, string | number>
}

export interface InvalidRow {
  dn: string
  personNo: string | null
  errors: EntryError[]
}

export interface RunDiff {
  created: PersonRow[]
  updated: PersonRow[]
  unchanged: PersonRow[]
  vanished: VanishedRow[]
  invalid: InvalidRow[]
}

export const DIFF_CATEGORIES = ['created', 'updated', 'unchanged', 'vanished', 'invalid'] as const

export type DiffCategory = (typeof DIFF_CATEGORIES)[number]

/**
 * Why a run was blocked or failed. Codes: the directory errors of
 * directory_client.ts, `empty_directory`, `too_many_vanished`, `busy`,
 * `source_disabled`, `password_unreadable`, `unexpected`.
 */
export interface RunProblem {
  code: string
  params?: Record<string, string | number>
  /** The server's or the network's own words. */
  detail?: string
}

export interface RunCounts {
  entries: number
  created: number
  updated: number
  unchanged: number
  vanished: number
  invalid: number
}

export function emptyDiff(): RunDiff {
  return { created: [], updated: [], unchanged: [], vanished: [], invalid: [] }
}

export function emptyCounts(): RunCounts {
  return { entries: 0, created: 0, updated: 0, unchanged: 0, vanished: 0, invalid: 0 }
}

/** Adds a row to its category unless it holds DIFF_ROWS_KEPT already. */
export function keepRow<K extends DiffCategory>(
  diff: RunDiff,
  category: K,
  row: RunDiff[K][number]
) {
  const rows = diff[category] as RunDiff[K][number][]
  if (rows.length < DIFF_ROWS_KEPT) rows.push(row)
}
