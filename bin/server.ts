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
    app.listenIf(app.managedByPm2, 'SIGINT', () => app.terminate())
  })
  .httpServer()
  .start(createQuadServer)
  .catch((error) => {
    process.exitCode = 1
    prettyPrintError(error)
  })
