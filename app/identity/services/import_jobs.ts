import { defineJob, defineSchedule } from '#appliance/services/jobs_registry'

/**
 * The jobs of spreadsheet imports. The dry run checks every row and writes
 * nothing; the import runs the whole file in one transaction, so a retry
 * after a crash starts again from a clean state, and since imports are
 * upserts, a retry after a commit changes nothing.
 */

/** The dry run of an uploaded people file: every row checked, nothing written. */
export const checkPeopleImportJob = defineJob<{ importId: string }>(
  'identity.check_people_import',
  async ({ importId }) => {
    const { checkUploadedImport } = await import('#identity/services/import_run')
    await checkUploadedImport(importId)
  },
  { maxAttempts: 3 }
)

/** Applies a confirmed people import. */
export const importPeopleJob = defineJob<{ importId: string }>(
  'identity.import_people',
  async ({ importId }) => {
    const { runImport } = await import('#identity/services/import_run')
    await runImport(importId)
  },
  { maxAttempts: 3 }
)

/** The dry run of an uploaded org-unit file. */
export const checkOrgUnitImportJob = defineJob<{ importId: string }>(
  'identity.check_org_unit_import',
  async ({ importId }) => {
    const { checkUploadedImport } = await import('#identity/services/import_run')
    await checkUploadedImport(importId)
  },
  { maxAttempts: 3 }
)

/** Applies a confirmed org-unit import. */
export const importOrgUnitsJob = defineJob<{ importId: string }>(
  'identity.import_org_units',
  async ({ importId }) => {
    const { runImport } = await import('#identity/services/import_run')
    await runImport(importId)
  },
  { maxAttempts: 3 }
)

/** Deletes uploads nobody confirmed within 24 hours, and their imports. */
export const pruneImportsJob = defineJob(
  'identity.prune_imports',
  async (_payload, { logger }) => {
    const { pruneAbandonedImports } = await import('#identity/services/import_records')
    logger.info(await pruneAbandonedImports(), 'abandoned imports pruned')
  },
  { maxAttempts: 3, backoff: { baseMs: 60_000, maxMs: 15 * 60_000 } }
)

defineSchedule('identity.prune_imports', '20 * * * *', pruneImportsJob, { timeZone: 'UTC' })
