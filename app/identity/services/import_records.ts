import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import type { DateTime } from 'luxon'
import { newPublicId } from '#core/services/ids'
import type { AuditActor } from '#core/services/audit'
import { dbTime, readTime } from '#appliance/services/jobs'
import { ensurePrivateDir, storagePath } from '#appliance/services/storage_root'
import type { ImportReport, RowError } from '#identity/services/import_columns'
import type { OrgScope } from '#identity/services/org_scope'

/**
 * The `imports` table: what the console shows of an import, from its dry
 * run to the end of its job, and where its uploaded file lies meanwhile.
 */

/** What a spreadsheet imports: people, or the units of the organization tree. */
export type ImportKind = 'people' | 'org_units'

export const IMPORT_KINDS: readonly ImportKind[] = ['people', 'org_units']

export type ImportStatus =
  'unmapped' | 'checking' | 'checked' | 'refused' | 'queued' | 'running' | 'succeeded' | 'failed'

/** The most row errors kept with an import; the page says how many more there were. */
export const MAX_KEPT_ERRORS = 1000

export interface ImportRecord {
  id: number
  publicId: string
  kind: ImportKind
  status: ImportStatus
  fileName: string
  format: string
  storedPath: string | null
  totalRows: number
  doneRows: number
  created: number
  updated: number
  unchanged: number
  errors: RowError[]
  errorCount: number
  /** Why a whole file was refused (columns), with its details. */
  problem: { code: string; details?: Record<string, unknown> } | null
  /** Header index → column key chosen by the user ('' ignores the column). */
  mapping: Record<number, string> | null
  actor: AuditActor
  /** The part of the tree the import may touch; null for the whole school. */
  scope: OrgScope | null
  locale: string
  createdAt: DateTime
  finishedAt: DateTime | null
}

interface StoredReport {
  errors: RowError[]
  errorCount: number
  problem: ImportRecord['problem']
}

function toRecord(row: any): ImportRecord {
  const report: StoredReport = row.report
    ? JSON.parse(row.report)
    : { errors: [], errorCount: 0, problem: null }
  return {
    id: Number(row.id),
    publicId: row.public_id,
    kind: row.kind,
    status: row.status,
    fileName: row.file_name,
    format: row.format,
    storedPath: row.stored_path,
    totalRows: Number(row.total_rows),
    doneRows: Number(row.done_rows),
    created: Number(row.created_count),
    updated: Number(row.updated_count),
    unchanged: Number(row.unchanged_count),
    errors: report.errors,
    errorCount: report.errorCount,
    problem: report.problem,
    mapping: row.mapping ? JSON.parse(row.mapping) : null,
    actor: JSON.parse(row.actor),
    scope: row.scope ? JSON.parse(row.scope) : null,
    locale: row.locale,
    createdAt: readTime(row.created_at)!,
    finishedAt: readTime(row.finished_at),
  }
}

/** The folder uploads wait in (mode 0700; files in it are written 0600). */
export function uploadsFolder(): string {
  return ensurePrivateDir(storagePath('uploads', 'imports'))
}

/** Absolute path of a stored upload; only names inside the uploads folder are accepted. */
export function uploadPath(storedPath: string): string {
  return join(uploadsFolder(), basename(storedPath))
}

/** Deletes an import's upload, if it is still there. */
export async function removeUpload(storedPath: string | null): Promise<void> {
  if (storedPath) await rm(uploadPath(storedPath), { force: true })
}

/** Deletes the progress file of an import that ended. */
export async function removeProgress(publicId: string): Promise<void> {
  await rm(progressFile(publicId), { force: true })
}

function storedReport(report: Partial<ImportReport> | null, problem: ImportRecord['problem']) {
  const errors = report?.errors ?? []
  return JSON.stringify({
    errors: errors.slice(0, MAX_KEPT_ERRORS),
    errorCount: errors.length,
    problem,
  } satisfies StoredReport)
}

/** Records a checked (or refused) upload and returns its public id. */
export async function createImportRecord(
  data: {
    kind: ImportKind
    scope?: OrgScope | null
    status: 'checking' | 'unmapped' | 'refused'
    fileName: string
    format: string
    storedPath: string | null
    totalRows: number
    problem: ImportRecord['problem']
    actor: AuditActor
    locale: string
  },
  trx?: TransactionClientContract
): Promise<string> {
  const client = trx ?? db.connection()
  const now = dbTime(new Date(), client)
  const publicId = newPublicId()
  await client.table('imports').insert({
    public_id: publicId,
    kind: data.kind,
    status: data.status,
    file_name: data.fileName.slice(0, 255),
    format: data.format,
    stored_path: data.storedPath,
    total_rows: data.totalRows,
    done_rows: 0,
    report: storedReport(null, data.problem),
    actor: JSON.stringify(data.actor),
    scope: data.scope && data.scope.kind !== 'all' ? JSON.stringify(data.scope) : null,
    locale: data.locale,
    created_at: now,
    updated_at: now,
  })
  return publicId
}

/**
 * Where a running import's progress is kept on SQLite. The import holds the
 * database's single write lock for its whole transaction, so the progress
 * cannot go into the imports row until it commits; SQLite means one box,
 * so a file in the storage root serves every process that could ask.
 */
function progressFile(publicId: string): string {
  return join(uploadsFolder(), `${basename(publicId)}.progress`)
}

function usesSqlite(): boolean {
  return db.connection().dialect.name !== 'postgres'
}

/** One import by public id, or null. */
export async function findImportRecord(publicId: string): Promise<ImportRecord | null> {
  const row = await db.from('imports').where('public_id', publicId).first()
  if (!row) return null
  const record = toRecord(row)
  if ((record.status === 'running' || record.status === 'checking') && usesSqlite()) {
    const text = await readFile(progressFile(record.publicId), 'utf8').catch(() => '')
    if (/^\d+$/.test(text.trim())) record.doneRows = Number(text.trim())
  }
  return record
}

/**
 * Moves an import from one status to another; false when it was not in
 * `from` any more (a second click on "confirm", or a retried job).
 */
export async function moveImport(
  id: number,
  from: ImportStatus[],
  to: ImportStatus,
  fields: {
    doneRows?: number
    report?: ImportReport | null
    finished?: boolean
    storedPath?: null
  } = {},
  trx?: TransactionClientContract
): Promise<boolean> {
  const client = trx ?? db.connection()
  const now = dbTime(new Date(), client)
  const changes: Record<string, unknown> = { status: to, updated_at: now }
  if (fields.doneRows !== undefined) changes.done_rows = fields.doneRows
  if (fields.report) {
    changes.total_rows = fields.report.total
    changes.created_count = fields.report.created
    changes.updated_count = fields.report.updated
    changes.unchanged_count = fields.report.unchanged
    changes.report = storedReport(fields.report, null)
  }
  if (fields.finished) changes.finished_at = now
  if (fields.storedPath === null) changes.stored_path = null
  const updated = await client
    .from('imports')
    .where('id', id)
    .whereIn('status', from)
    .update(changes)
  return Number(updated) > 0
}

/**
 * Stores the columns the user chose and sends the import to its dry run;
 * false when it was no longer waiting for a mapping.
 */
export async function chooseMapping(
  id: number,
  mapping: Record<number, string>,
  trx: TransactionClientContract
): Promise<boolean> {
  const updated = await trx
    .from('imports')
    .where('id', id)
    .where('status', 'unmapped')
    .update({
      status: 'checking',
      mapping: JSON.stringify(mapping),
      report: storedReport(null, null),
      updated_at: dbTime(new Date(), trx),
    })
  return Number(updated) > 0
}

/** Replaces the column problem of an import still waiting for a mapping. */
export async function recordMappingProblem(id: number, problem: ImportRecord['problem']) {
  const client = db.connection()
  await client
    .from('imports')
    .where('id', id)
    .where('status', 'unmapped')
    .update({ report: storedReport(null, problem), updated_at: dbTime(new Date(), client) })
}

/** Stores how far the job got (outside the import's transaction). */
export async function recordProgress(
  id: number,
  publicId: string,
  doneRows: number
): Promise<void> {
  if (usesSqlite()) {
    await writeFile(progressFile(publicId), String(doneRows), { mode: 0o600 })
    return
  }
  const client = db.connection()
  await client
    .from('imports')
    .where('id', id)
    .update({ done_rows: doneRows, updated_at: dbTime(new Date(), client) })
}

/** How long an upload may wait for its column mapping or its confirmation. */
export const ABANDONED_AFTER_MS = 24 * 60 * 60 * 1000

/** Imports that wait for the user; past ABANDONED_AFTER_MS nobody is coming back for them. */
const WAITING: ImportStatus[] = ['unmapped', 'checking', 'checked']

/**
 * Deletes imports that were uploaded but never confirmed (still waiting for
 * a column mapping or a confirmation, or stuck in a dry run whose job gave
 * up) once untouched for 24 hours, with their uploaded files; then any file
 * in the uploads folder that no import refers to and that is as old (left
 * behind by a process that stopped between copying and recording). Imports
 * that ran keep their row, which is the record of what was imported.
 */
export async function pruneAbandonedImports(
  now = new Date()
): Promise<{ imports: number; files: number }> {
  const client = db.connection()
  const cutoff = new Date(now.getTime() - ABANDONED_AFTER_MS)
  const abandoned = await client
    .from('imports')
    .whereIn('status', WAITING)
    .where('updated_at', '<', dbTime(cutoff, client))
    .select('id', 'public_id', 'stored_path')
  let imports = 0
  let files = 0
  for (const row of abandoned) {
    const deleted = await client
      .from('imports')
      .where('id', row.id)
      .whereIn('status', WAITING)
      .delete()
    if (Number(deleted) === 0) continue
    imports++
    if (row.stored_path) {
      await removeUpload(row.stored_path)
      files++
    }
    await removeProgress(row.public_id)
  }

  const kept = await client.from('imports').whereNotNull('stored_path').select('stored_path')
  const referenced = new Set(kept.map((row) => basename(row.stored_path)))
  const folder = uploadsFolder()
  for (const name of await readdir(folder)) {
    if (referenced.has(name)) continue
    const path = join(folder, name)
    const info = await stat(path).catch(() => null)
    if (!info?.isFile() || info.mtimeMs >= cutoff.getTime()) continue
    await rm(path, { force: true })
    files++
  }
  return { imports, files }
}
