import env from '#start/env'
import app from '@adonisjs/core/services/app'
import { defineConfig } from '@adonisjs/lucid'
import { storagePath } from '#appliance/services/storage_root'

/**
 * SQLite under the storage root by default; PostgreSQL with DB_CONNECTION=pg.
 * SQLite runs in WAL mode with synchronous=FULL: a committed payment survives
 * a power cut.
 */
const sqliteFile = env.get('SQLITE_FILE') ?? storagePath('db', 'quad.sqlite3')

const migrations = { naturalSort: true, paths: ['database/migrations'] }

// Models declare their columns by hand; no generated schema classes.
const schemaGeneration = { enabled: false }

const dbConfig = defineConfig({
  connection: env.get('DB_CONNECTION', 'sqlite'),
  prettyPrintDebugQueries: false,
  connections: {
    sqlite: {
      client: 'better-sqlite3',
      connection: { filename: sqliteFile },
      useNullAsDefault: true,
      pool: {
        afterCreate: (connection: any, done: (error: Error | null, connection: any) => void) => {
          connection.pragma('journal_mode = WAL')
          connection.pragma('synchronous = FULL')
          connection.pragma('busy_timeout = 5000')
          connection.pragma('foreign_keys = ON')
          // 64 MiB of page cache and reads through a memory map: the indexes a
          // payment writes to stay in memory instead of being read page by page.
          connection.pragma('cache_size = -65536')
          connection.pragma('mmap_size = 268435456')
          done(null, connection)
        },
      },
      migrations,
      schemaGeneration,
      debug: false,
    },
    pg: {
      client: 'pg',
      connection: {
        host: env.get('PG_HOST', '127.0.0.1'),
        port: env.get('PG_PORT', 5432),
        user: env.get('PG_USER', 'postgres'),
        password: env.get('PG_PASSWORD')?.release(),
        database: env.get('PG_DATABASE', 'quad'),
        ssl: env.get('PG_SSL', false) ? { rejectUnauthorized: true } : false,
      },
      pool: { min: 0, max: 10 },
      migrations,
      schemaGeneration,
      debug: app.inDev && env.get('LOG_LEVEL') === 'trace',
    },
  },
})

export default dbConfig
