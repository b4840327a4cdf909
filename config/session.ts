import { defineConfig, stores } from '@adonisjs/session'
import { tlsEnabled } from '#appliance/services/https_server'

/**
 * Sessions live in the database so that a sign-out, a lockout or an idle
 * timeout ends them on the server, and so that several web processes share them.
 * The idle timeout itself is enforced by the console_session middleware.
 */
const sessionConfig = defineConfig({
  enabled: true,
  cookieName: 'quad_session',
  clearWithBrowser: true,
  age: '12h',
  cookie: {
    path: '/',
    httpOnly: true,
    secure: tlsEnabled(),
    sameSite: 'lax',
  },
  store: 'database',
  stores: {
    database: stores.database({ tableName: 'sessions' }),
  },
})

export default sessionConfig
