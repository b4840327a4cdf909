import env from '#start/env'
import app from '@adonisjs/core/services/app'
import { defineConfig, targets } from '@adonisjs/core/logger'

/**
 * Logs go to stdout as JSON (pm2 and systemd capture them); pretty in development.
 * Secrets are redacted wherever they might appear.
 */
const loggerConfig = defineConfig({
  default: 'app',
  loggers: {
    app: {
      enabled: true,
      name: 'quad',
      level: env.get('LOG_LEVEL', app.inTest ? 'silent' : 'info'),
      redact: {
        paths: [
          'password',
          '*.password',
          'totp',
          '*.totp',
          'secret',
          '*.secret',
          'token',
          '*.token',
        ],
        censor: '[redacted]',
      },
      // In production pino writes straight to stdout: a worker-thread transport
      // would bypass pm2's log capture.
      ...(app.inDev ? { transport: { targets: [targets.pretty()] } } : {}),
    },
  },
})

export default loggerConfig

declare module '@adonisjs/core/types' {
  export interface LoggersList extends InferLoggers<typeof loggerConfig> {}
}
