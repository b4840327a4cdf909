/*
 * Environment variables, validated at boot. Every variable has a default so
 * that a fresh clone starts with none set; the README's configuration table
 * lists them all.
 */
import { Env } from '@adonisjs/core/env'
import { Settings } from 'luxon'
import { ensureAppKey, prepareStorageFolders } from '#appliance/services/storage_root'

// Times are UTC inside Quad; the school's time zone applies only on screen.
process.env.TZ = 'UTC'
Settings.defaultZone = 'utc'

// Everything Quad writes (database, keys, uploads, backups) is private to its user.
process.umask(0o077)

prepareStorageFolders()
process.env.APP_KEY = ensureAppKey()

export default await Env.create(new URL('../', import.meta.url), {
  NODE_ENV: Env.schema.enum.optional(['development', 'production', 'test'] as const),
  PORT: Env.schema.number.optional(),
  HOST: Env.schema.string.optional({ format: 'host' }),
  APP_KEY: Env.schema.secret(),
  APP_URL: Env.schema.string.optional({ format: 'url', tld: false }),
  LOG_LEVEL: Env.schema.enum.optional([
    'trace',
    'debug',
    'info',
    'warn',
    'error',
    'fatal',
    'silent',
  ] as const),

  QUAD_STORAGE: Env.schema.string.optional(),
  QUAD_TLS: Env.schema.boolean.optional(),
  QUAD_HOSTNAMES: Env.schema.string.optional(),
  QUAD_IDLE_TIMEOUT: Env.schema.string.optional(),
  QUAD_METRICS_TOKEN: Env.schema.secret.optional(),
  QUAD_LOGIN_RATE_LIMIT: Env.schema.number.optional(),
  QUAD_API_RATE_LIMIT: Env.schema.number.optional(),
  QUAD_WORKER_CONCURRENCY: Env.schema.number.optional(),
  QUAD_BACKUP_PASSPHRASE_FILE: Env.schema.string.optional(),
  QUAD_BACKUP_KEY_FILE: Env.schema.string.optional(),

  DB_CONNECTION: Env.schema.enum.optional(['sqlite', 'pg'] as const),
  SQLITE_FILE: Env.schema.string.optional(),
  PG_HOST: Env.schema.string.optional(),
  PG_PORT: Env.schema.number.optional(),
  PG_USER: Env.schema.string.optional(),
  PG_PASSWORD: Env.schema.secret.optional(),
  PG_DATABASE: Env.schema.string.optional(),
  PG_SSL: Env.schema.boolean.optional(),
})
