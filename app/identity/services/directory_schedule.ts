import { DateTime } from 'luxon'
import logger from '@adonisjs/core/services/logger'
import { SYSTEM_ACTOR } from '#core/services/audit'
import { currentSchool } from '#appliance/services/school_settings'
import DirectorySource from '#identity/models/directory_source'
import DirectorySyncRun from '#identity/models/directory_sync_run'
import { StartDirectorySync } from '#identity/actions/start_directory_sync'

/**
 * When scheduled directory syncs are due. A source's slot is the start of
 * the current hour (hourly) or the last passed HH:MM in the school's time
 * zone (daily). A slot is run once: when no scheduled run of the source
 * covers it yet and it lies after the schedule was set. A worker that was
 * down for a day runs the latest slot once, not every slot it missed.
 */

/** The latest slot of a source's schedule at `now`, or null when it has none. */
export function latestSlot(
  schedule: DirectorySource['schedule'],
  scheduleTime: string | null,
  now: DateTime
): DateTime | null {
  if (schedule === 'hourly') return now.startOf('hour')
  if (schedule !== 'daily' || !scheduleTime) return null
  const [hour, minute] = scheduleTime.split(':').map(Number)
  const today = now.set({ hour, minute, second: 0, millisecond: 0 })
  return today <= now ? today : today.minus({ days: 1 })
}

/**
 * The slot a source should run for now, or null. `lastScheduled` is the
 * slot of its latest scheduled run.
 */
export function dueSlot(
  source: Pick<DirectorySource, 'enabled' | 'schedule' | 'scheduleTime' | 'scheduledFrom'>,
  lastScheduled: DateTime | null,
  now: DateTime
): DateTime | null {
  if (!source.enabled) return null
  const slot = latestSlot(source.schedule, source.scheduleTime, now)
  if (!slot) return null
  if (source.scheduledFrom && slot < source.scheduledFrom) return null
  if (lastScheduled && lastScheduled >= slot) return null
  return slot
}

/**
 * Starts an apply run for every source that is due; returns the runs'
 * public ids. A source whose previous apply is still going is left for the
 * next tick.
 */
export async function startDueDirectorySyncs(at: Date = new Date()): Promise<string[]> {
  const school = await currentSchool()
  const zone = school?.timeZone ?? 'Asia/Shanghai'
  const now = DateTime.fromJSDate(at).setZone(zone)
  const sources = await DirectorySource.query().where('enabled', true).whereNot('schedule', 'off')
  const started: string[] = []
  for (const source of sources) {
    const last = await DirectorySyncRun.query()
      .where('source_id', source.id)
      .where('trigger', 'schedule')
      .whereNotNull('scheduled_for')
      .orderBy('id', 'desc')
      .first()
    const slot = dueSlot(source, last?.scheduledFor ?? null, now)
    if (!slot) continue
    const result = await new StartDirectorySync().handle(
      {
        sourcePublicId: source.publicId,
        mode: 'apply',
        trigger: 'schedule',
        scheduledFor: slot,
      },
      { ...SYSTEM_ACTOR, name: 'directory-sync' }
    )
    if (result.ok) started.push(result.value.publicId)
    else
      logger.info({ source: source.publicId, reason: result.error }, 'scheduled sync not started')
  }
  return started
}
