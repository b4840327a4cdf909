import type { BackupProgress } from '#appliance/services/backup'

const RESTORE_STEPS: Record<string, string> = {
  database: 'restoring the database',
  storage: 'restoring keys, CA and uploads',
  verify: 'comparing row counts with the manifest',
}

/** Megabytes with one decimal, for progress lines and listings. */
export function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

/**
 * Turns progress events into at most one line every two seconds (and one
 * per restore step), so that a long run shows it is alive without flooding
 * a log.
 */
export function progressPrinter(log: (line: string) => void, everyMs = 2000) {
  let last = Date.now()
  return (progress: BackupProgress) => {
    if (progress.stage === 'restore') {
      log(RESTORE_STEPS[progress.step] ?? progress.step)
      return
    }
    const now = Date.now()
    if (now - last < everyMs) return
    last = now
    if (progress.stage === 'database') {
      const percent = progress.total ? Math.floor((progress.done / progress.total) * 100) : 0
      log(`database snapshot: ${progress.done} / ${progress.total} pages (${percent}%)`)
    } else {
      const percent = progress.total ? Math.floor((progress.bytes / progress.total) * 100) : 0
      const verb = progress.stage === 'pack' ? 'packing and encrypting' : 'decrypting and checking'
      log(`${verb}: ${megabytes(progress.bytes)} of ${megabytes(progress.total)} (${percent}%)`)
    }
  }
}
