/*
 * Ace entrypoint. Commands boot the application only when they ask for it
 * (options.startApp).
 */
await import('reflect-metadata')
const { Ignitor, prettyPrintError } = await import('@adonisjs/core')
const { APP_ROOT, importer } = await import('./importer.js')

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
  .ace()
  .handle(process.argv.splice(2))
  .catch((error) => {
    process.exitCode = 1
    prettyPrintError(error)
  })
