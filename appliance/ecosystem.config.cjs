/*
 * pm2 processes of an installed Quad bundle (run by `pm2-runtime`, see
 * quad.service and quadctl). Paths are relative to this file, so the same file
 * serves /opt/quad/<version>, an install under another root, and a container.
 *
 *   web     the HTTP(S) server, in cluster mode: QUAD_WEB_INSTANCES processes
 *           (default 2) share one port; a crash of one leaves the others serving
 *   worker  `node ace worker:run`, one process; several workers on several
 *           boxes are safe (jobs and schedule ticks take database leases)
 *
 * PM2_HOME must point inside the storage root (the installer writes it into
 * quad.env) so that pm2's sockets and dump files live with Quad's data and
 * never in a home folder. Logs go to stdout (pm2-runtime streams them to
 * journald or the container runtime) and to files under $QUAD_STORAGE/logs,
 * rotated by appliance/logrotate.conf.
 */
'use strict'

const path = require('node:path')

const bundle = path.resolve(__dirname, '..')
const app = path.join(bundle, 'app')
const node = path.join(bundle, 'runtime', 'bin', 'node')
const storage = process.env.QUAD_STORAGE || path.join(app, 'storage')
const logs = path.join(storage, 'logs')

function positiveInteger(value, fallback) {
  const number = Number.parseInt(value ?? '', 10)
  return Number.isInteger(number) && number > 0 ? number : fallback
}

const shared = {
  cwd: app,
  interpreter: node,
  autorestart: true,
  // A process that crashes at once is retried with growing pauses instead of
  // a tight loop that fills the logs.
  exp_backoff_restart_delay: 200,
  max_memory_restart: process.env.QUAD_MAX_MEMORY || '1G',
  merge_logs: true,
  env: { NODE_ENV: process.env.NODE_ENV || 'production' },
}

module.exports = {
  apps: [
    {
      ...shared,
      name: 'quad-web',
      script: path.join(app, 'bin', 'server.js'),
      exec_mode: 'cluster',
      instances: positiveInteger(process.env.QUAD_WEB_INSTANCES, 2),
      // The web process drains open requests on SIGINT under pm2.
      kill_timeout: 10000,
      listen_timeout: 30000,
      out_file: path.join(logs, 'web.log'),
      error_file: path.join(logs, 'web.error.log'),
    },
    {
      ...shared,
      name: 'quad-worker',
      script: path.join(app, 'ace.js'),
      args: ['worker:run'],
      exec_mode: 'fork',
      instances: 1,
      // worker:run lets running jobs finish for up to 30 s after SIGTERM.
      kill_timeout: 40000,
      out_file: path.join(logs, 'worker.log'),
      error_file: path.join(logs, 'worker.error.log'),
    },
  ],
}
