import { DateTime } from 'luxon'
import {
  backupsFolder,
  listBackups,
  scheduledSecretKind,
  STALE_AFTER_HOURS,
  type BackupFile,
} from '#appliance/services/backup'
import { BACKUP_CRON } from '#appliance/services/backup_schedule'

export interface BackupOverview {
  folder: string
  last: (BackupFile & { ageHours: number }) | null
  /** No backup, or the last one is older than STALE_AFTER_HOURS. */
  stale: boolean
  staleAfterHours: number
  scheduled: 'key_file' | 'passphrase_file' | null
  cron: string
  backups: BackupFile[]
  totalSize: number
}

/** What the console shows about backups: the last one, its age, the schedule and the list. */
export function backupOverview(now = DateTime.utc()): BackupOverview {
  const backups = listBackups()
  const newest = backups[0] ?? null
  const last = newest
    ? { ...newest, ageHours: Math.max(0, now.diff(newest.createdAt, 'hours').hours) }
    : null
  return {
    folder: backupsFolder(),
    last,
    stale: !last || last.ageHours > STALE_AFTER_HOURS,
    staleAfterHours: STALE_AFTER_HOURS,
    scheduled: scheduledSecretKind(),
    cron: BACKUP_CRON,
    backups,
    totalSize: backups.reduce((sum, backup) => sum + backup.size, 0),
  }
}
