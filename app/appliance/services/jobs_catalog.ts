import { relative } from 'node:path'
import { pathToFileURL } from 'node:url'
import app from '@adonisjs/core/services/app'

/**
 * Every module's job and schedule definition files. The worker imports them
 * all before it starts, so that it can run every job type and fire every
 * schedule; a module with jobs adds its file here.
 */
const DEFINITION_FILES = [
  () => import('#appliance/services/jobs_maintenance'),
  () => import('#appliance/services/backup_schedule'),
  () => import('#identity/services/import_jobs'),
  () => import('#identity/services/directory_jobs'),
  () => import('#cards/services/card_jobs'),
  () => import('#cards/services/replay_jobs'),
  () => import('#ledger/services/arrears_jobs'),
  () => import('#ledger/services/wallet_jobs'),
  () => import('#reports/services/report_jobs'),
  () => import('#identity/services/portal_mail'),
  () => import('#identity/services/portal_maintenance'),
  () => import('#app_center/services/oidc_jobs'),
  () => import('#app_center/services/cas_jobs'),
]

/** Imports the definition files; call once before starting a worker. */
export async function loadJobDefinitions() {
  for (const load of DEFINITION_FILES) await load()

  // A test run can name one extra definition file (inside the application),
  // so that the worker processes it starts know its test jobs. Ignored
  // outside NODE_ENV=test.
  const testJobs = process.env.QUAD_TEST_JOBS
  if (app.inTest && testJobs) {
    const file = app.makePath(testJobs)
    if (relative(app.makePath(), file).startsWith('..'))
      throw new Error('QUAD_TEST_JOBS must name a file inside the application')
    await import(pathToFileURL(file).href)
  }
}
