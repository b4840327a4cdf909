/*
 * HTTP entrypoint of the web process. Serves HTTPS with the appliance's own
 * certificate unless QUAD_TLS=false (behind a TLS-terminating proxy, or in tests).
 */
await import('reflect-metadata')
const { Ignitor, prettyPrintError } = await import('@adonisjs/core')
const { APP_ROOT, importer } = await import('./importer.js')
const { createQuadServer } = await import('#appliance/services/https_server')

new Ignitor(APP_ROOT, { importer })
  .tap((app) => {
    app.booting(async () => {
      await import('#start/env')
    })
    app.listen('SIGTERM', () => app.terminate())
    // Under pm2 the IPC channel to pm2 keeps the process alive after the app
    // has terminated, until pm2 kills it: let go of it once everything is closed.
    app.listenIf(app.managedByPm2, 'SIGINT', () =>
      app.terminate().finally(() => {
        if (process.connected) process.disconnect()
      })
    )
  })
  .httpServer()
  .start(createQuadServer)
  .catch((error) => {
    process.exitCode = 1
    prettyPrintError(error)
  })
