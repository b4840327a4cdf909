/**
 * Builds the migrated template database for TEST_DB (SQLite by default) when
 * the migrations changed since it was last built, so that the test files copy
 * it instead of each running every migration. bin/quad test runs this before
 * ava; without it the first test files to boot build the template themselves.
 *
 *   node --import=@poppinss/ts-exec tests/helpers/prepare_template.ts
 */
import { bootTestApp, templateName, testDialect } from './app.js'

const started = performance.now()
const quad = await bootTestApp({ http: false })
await quad.close()
const seconds = ((performance.now() - started) / 1000).toFixed(1)
console.log(`${testDialect} template database: ${templateName()} (${seconds} s)`)
process.exit(0)
