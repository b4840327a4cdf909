import { DateTime } from 'luxon'
import { BaseModel, beforeCreate, belongsTo, column } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import type { AuditActor } from '#core/services/audit'
import { newPublicId } from '#core/services/ids'
import DirectorySource from '#identity/models/directory_source'
import type { RunDiff, RunProblem } from '#identity/services/directory_diff'

/** preview: computes the diff and writes nothing; apply: writes it. */
export const RUN_MODES = ['preview', 'apply'] as const
export type RunMode = (typeof RUN_MODES)[number]

export const RUN_TRIGGERS = ['console', 'schedule', 'command'] as const
export type RunTrigger = (typeof RUN_TRIGGERS)[number]

/**
 * blocked: a safety limit refused the run (an empty directory, too many
 * people vanishing); failed: the directory could not be read, or the run broke.
 */
export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'blocked', 'failed'] as const
export type RunStatus = (typeof RUN_STATUSES)[number]

export const RUN_PHASES = ['connecting', 'reading', 'comparing', 'vanished', 'done'] as const
export type RunPhase = (typeof RUN_PHASES)[number]

const json = {
  prepare: (value: unknown) =>
    value === null || value === undefined ? null : JSON.stringify(value),
  consume: (value: string | null) => (value ? JSON.parse(value) : null),
}

/** One run of a directory source: its progress, its counts and the first rows of its diff. */
export default class DirectorySyncRun extends BaseModel {
  static table = 'directory_sync_runs'

  @column({ isPrimary: true, serializeAs: null })
  declare id: number

  @column()
  declare publicId: string

  @column({ serializeAs: null })
  declare sourceId: number

  @column()
  declare mode: RunMode

  @column()
  declare trigger: RunTrigger

  @column()
  declare status: RunStatus

  @column()
  declare phase: RunPhase | null

  /** The preview an apply was started from. */
  @column({ serializeAs: null })
  declare previewRunId: number | null

  @column()
  declare jobPublicId: string | null

  @column()
  declare entriesCount: number

  @column()
  declare createdCount: number

  @column()
  declare updatedCount: number

  @column()
  declare unchangedCount: number

  @column()
  declare vanishedCount: number

  @column()
  declare invalidCount: number

  @column()
  declare doneCount: number

  @column()
  declare totalCount: number

  @column(json)
  declare diff: RunDiff | null

  @column(json)
  declare problem: RunProblem | null

  @column(json)
  declare actor: AuditActor

  @column.dateTime()
  declare scheduledFor: DateTime | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime

  @column.dateTime()
  declare startedAt: DateTime | null

  @column.dateTime()
  declare finishedAt: DateTime | null

  @belongsTo(() => DirectorySource, { foreignKey: 'sourceId' })
  declare source: BelongsTo<typeof DirectorySource>

  @beforeCreate()
  static assignPublicId(run: DirectorySyncRun) {
    run.publicId ??= newPublicId()
  }

  get inProgress(): boolean {
    return this.status === 'queued' || this.status === 'running'
  }
}
