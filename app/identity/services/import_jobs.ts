import { defineJob } from '#appliance/services/jobs_registry'

/**
 * The job that applies a confirmed people import. It runs the whole file in
 * one transaction, so a retry after a crash starts again from a clean state;
 * and since the import is an upsert, a retry after a commit changes nothing.
 */
/** The dry run of an uploaded file: every row checked, nothing written. */
export const checkPeopleImportJob = defineJob<{ importId: string }>(
  'identity.check_people_import',
  async ({ importId }) => {
    const { checkUploadedPeople } = await import('#identity/services/import_run')
    await checkUploadedPeople(importId)
  },
  { maxAttempts: 3 }
)

export const importPeopleJob = defineJob<{ importId: string }>(
  'identity.import_people',
  async ({ importId }) => {
    const { runPeopleImport } = await import('#identity/services/import_run')
    await runPeopleImport(importId)
  },
  { maxAttempts: 3 }
)
