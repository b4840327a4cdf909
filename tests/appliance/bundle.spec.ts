/**
 * The offline bundle, end to end: `npm run appliance:bundle`, then
 * install.sh into a temporary root with no npm and no system Node.js
 * reachable, quadctl start, /readyz, the first-run setup from the command
 * line, an upgrade that keeps the data, and an upgrade with a broken
 * migration that rolls back to the version before.
 *
 * The bundle carries its own database (SQLite in the storage root) and does
 * not use the test database, so the file runs in the SQLite pass of the suite
 * only; under TEST_DB=pg its tests are skipped. A bundle built less than an
 * hour ago from the current sources (in the system temp folder) is reused, so
 * that running the file twice costs one build.
 */
import test from 'ava'
import { spawn } from 'node:child_process'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'
import { request } from 'node:https'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const TREE = fileURLToPath(new URL('../../', import.meta.url))
const VERSION = JSON.parse(readFileSync(join(TREE, 'package.json'), 'utf8')).version as string
const CACHE = join(tmpdir(), 'quad-bundle-test')
const BUNDLE_NAME = `quad-${VERSION}-linux-x64`
const NEXT_VERSION = `${VERSION}-next`
const BROKEN_VERSION = `${VERSION}-broken`
const ADMIN_PASSWORD = 'Campus-2026-secure'

const onPostgres = process.env.TEST_DB === 'pg'
const serial = onPostgres ? test.skip : test.serial

interface Run {
  code: number | null
  output: string
}

let work = ''
let root = ''
let shims = ''
let port = 0
let bundleDir = ''

/** Runs a program with a scrubbed environment: no npm, no system node, no registry. */
function run(command: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return spawnWith(command, args, {
    PATH: `${shims}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    HOME: work,
    LANG: 'C.UTF-8',
    npm_config_offline: 'true',
    npm_config_registry: 'http://127.0.0.1:9/',
    ...env,
  })
}

function spawnWith(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk) => (output += chunk))
    child.stderr.on('data', (chunk) => (output += chunk))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, output }))
  })
}

/** Newest modification time under the paths the bundle is made of. */
function newestSource(paths: string[]): number {
  let newest = 0
  const visit = (path: string) => {
    if (!existsSync(path)) return
    const stat = statSync(path)
    if (stat.isDirectory()) {
      for (const entry of readdirSync(path)) visit(join(path, entry))
    } else {
      newest = Math.max(newest, stat.mtimeMs)
    }
  }
  for (const path of paths) visit(join(TREE, path))
  return newest
}

async function freshBundle(): Promise<string> {
  const tarball = join(CACHE, `${BUNDLE_NAME}.tar.gz`)
  const sources = newestSource([
    'app',
    'bin',
    'commands',
    'config',
    'database',
    'resources',
    'start',
    'public',
    'appliance',
    'installer',
    'docs/self-hosting.md',
    'adonisrc.ts',
    'package.json',
    'package-lock.json',
  ])
  if (existsSync(tarball)) {
    const built = statSync(tarball).mtimeMs
    if (built > sources && Date.now() - built < 3600_000) return tarball
  }
  const nodeDir = dirname(dirname(process.execPath))
  // The build itself uses the tree's npm cache (and the registry for a cold cache).
  const build = await spawnWith(join(TREE, 'appliance', 'bundle.sh'), ['--out', CACHE], {
    ...process.env,
    PATH: `${nodeDir}/bin:${process.env.PATH}`,
    npm_config_nodedir: nodeDir,
  })
  if (build.code !== 0) throw new Error(`appliance/bundle.sh failed:\n${build.output}`)
  return tarball
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

/** GET over HTTPS, trusting only the installed appliance CA. */
function get(path: string): Promise<{ status: number; location?: string; body: string }> {
  const ca = readFileSync(join(root, 'var/lib/quad/pki/ca.crt'))
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, ca, servername: 'localhost', timeout: 5000 },
      (response) => {
        let body = ''
        response.on('data', (chunk) => (body += chunk))
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, location: response.headers.location, body })
        )
      }
    )
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject)
    req.end()
  })
}

const quadctl = (...args: string[]) => run(join(root, 'opt/quad/current/quadctl'), args)
const currentVersion = () => readlinkSync(join(root, 'opt/quad/current'))

/**
 * Makes another bundle from the unpacked one: a new version number, extra
 * compiled migrations, and SHA256SUMS to match (what a release build does).
 * The files are hard links to the unpacked bundle (fast, no extra disk);
 * a changed file is replaced, never written through the link.
 */
async function deriveBundle(version: string, migrations: Record<string, string> = {}) {
  const dir = join(work, `quad-${version}-linux-x64`)
  const copy = await run('cp', ['-al', bundleDir, dir])
  if (copy.code !== 0) throw new Error(copy.output)
  const replace = (file: string, contents: string) => {
    rmSync(join(dir, file), { force: true })
    writeFileSync(join(dir, file), contents)
  }
  const pkg = JSON.parse(readFileSync(join(dir, 'app/package.json'), 'utf8'))
  const changed: Record<string, string> = {
    'VERSION': `${version}\n`,
    'app/package.json': JSON.stringify({ ...pkg, version }, null, 2) + '\n',
  }
  for (const [name, source] of Object.entries(migrations)) {
    changed[`app/database/migrations/${name}`] = source
  }
  const lines = readFileSync(join(dir, 'SHA256SUMS'), 'utf8')
    .split('\n')
    .filter((line) => line && !(line.slice(66) in changed))
  for (const [file, contents] of Object.entries(changed)) {
    replace(file, contents)
    lines.push(`${createHash('sha256').update(contents).digest('hex')}  ${file}`)
  }
  lines.sort((a, b) => (a.slice(66) < b.slice(66) ? -1 : 1))
  replace('SHA256SUMS', lines.join('\n') + '\n')
  return dir
}

interface ReadonlySqlite {
  prepare(sql: string): { all(): Array<{ name: string }> }
  close(): void
}

/** Tables in the installed SQLite database, read with the tree's driver. */
function sqliteTables(): string[] {
  const Database = createRequire(import.meta.url)('better-sqlite3') as new (
    file: string,
    options: { readonly: boolean }
  ) => ReadonlySqlite
  const db = new Database(join(root, 'var/lib/quad/db/quad.sqlite3'), { readonly: true })
  try {
    return db
      .prepare("select name from sqlite_master where type = 'table'")
      .all()
      .map((row) => row.name)
  } finally {
    db.close()
  }
}

if (onPostgres) {
  test.skip('the bundle is tested in the SQLite pass only: it brings its own database', () => {})
}

test.before(async (t) => {
  if (onPostgres) return
  t.timeout(300_000)
  work = mkdtempSync(join(tmpdir(), 'quad-bundle-'))
  root = join(work, 'root')
  shims = join(work, 'shims')
  mkdirSync(shims)
  // Any use of npm, npx or a node other than the bundled one is recorded and fails.
  for (const tool of ['npm', 'npx', 'node', 'pnpm', 'yarn']) {
    const shim = join(shims, tool)
    writeFileSync(shim, `#!/bin/sh\necho "${tool} $*" >> "${work}/forbidden-calls"\nexit 97\n`)
    chmodSync(shim, 0o755)
  }
  port = await freePort()
  const started = Date.now()
  const tarball = await freshBundle()
  t.log(`bundle ready in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  const unpackStarted = Date.now()
  const unpack = await run('tar', ['-xzf', tarball, '-C', work])
  if (unpack.code !== 0) throw new Error(unpack.output)
  t.log(`unpacked in ${((Date.now() - unpackStarted) / 1000).toFixed(1)} s`)
  bundleDir = join(work, BUNDLE_NAME)
})

test.after.always(async () => {
  if (!work) return
  if (existsSync(join(root, 'opt/quad/current/quadctl'))) await quadctl('stop')
  rmSync(work, { recursive: true, force: true })
})

serial(
  'installs offline into an empty root, starts, is ready and completes the first run',
  async (t) => {
    t.timeout(180_000)
    const install = await run(join(bundleDir, 'install.sh'), [
      '--root',
      root,
      '--no-systemd',
      '--no-user',
      '--port',
      String(port),
    ])
    t.is(install.code, 0, install.output)
    t.regex(install.output, new RegExp(`Open +https://[^ ]+:${port}/`))
    t.is(currentVersion(), VERSION)
    t.is(statSync(join(root, 'var/lib/quad')).mode & 0o777, 0o700)
    t.is(statSync(join(root, 'etc/quad/quad.env')).mode & 0o777, 0o640)
    t.regex(
      readFileSync(join(root, 'etc/quad/quad.env'), 'utf8'),
      new RegExp(`^PORT=${port}$`, 'm')
    )

    const start = await quadctl('start')
    t.is(start.code, 0, start.output)
    const ready = await quadctl('ready', '--timeout', '90')
    t.is(ready.code, 0, ready.output + readLog())
    t.is((await get('/readyz')).status, 200)
    t.is((await get('/login')).location, '/setup', 'a fresh install leads to the setup wizard')

    const setup = await run(
      join(root, 'opt/quad/current/quadctl'),
      [
        'ace',
        'appliance:setup',
        '--school-name',
        '华南示范大学',
        '--school-code',
        'SCMU',
        '--time-zone',
        'Asia/Shanghai',
        '--locale',
        'zh-CN',
        '--admin-username',
        'admin',
        '--admin-name',
        '王老师',
      ],
      { QUAD_ADMIN_PASSWORD: ADMIN_PASSWORD }
    )
    t.is(setup.code, 0, setup.output)
    const login = await get('/login')
    t.is(login.status, 200)
    t.false(existsSync(join(work, 'forbidden-calls')), 'nothing called npm or a system node')
  }
)

serial('an upgrade to a newer bundle keeps the school and its data', async (t) => {
  t.timeout(180_000)
  const next = await deriveBundle(NEXT_VERSION)
  const upgrade = await run(join(next, 'install.sh'), [
    '--root',
    root,
    '--no-systemd',
    '--no-user',
    '--upgrade',
  ])
  t.is(upgrade.code, 0, upgrade.output + readLog())
  t.is(currentVersion(), NEXT_VERSION)
  t.true(
    existsSync(join(root, 'opt/quad', VERSION)),
    'the previous version stays for a manual rollback'
  )
  t.is((await get('/readyz')).status, 200)
  t.is((await get('/login')).status, 200, 'setup is done: no wizard after the upgrade')
  const status = await quadctl('ace', 'appliance:status', '--json')
  t.is(JSON.parse(status.output.slice(status.output.indexOf('{'))).school?.code, 'SCMU')
  t.true(
    readdirSync(join(root, 'var/lib/quad/backups')).some((name) => name.startsWith('pre-upgrade-')),
    'a backup was taken before migrating'
  )
  t.false(existsSync(join(work, 'forbidden-calls')), 'nothing called npm or a system node')
})

serial(
  'an upgrade whose migration fails rolls back the database and the version, which still serves',
  async (t) => {
    t.timeout(180_000)
    const probe = `import { BaseSchema } from '@adonisjs/lucid/schema'
export default class extends BaseSchema {
  async up() {
    this.schema.createTable('upgrade_probe', (table) => {
      table.increments('id')
    })
  }
}
`
    const broken = `import { BaseSchema } from '@adonisjs/lucid/schema'
export default class extends BaseSchema {
  async up() {
    throw new Error('this migration is broken on purpose')
  }
}
`
    const bundle = await deriveBundle(BROKEN_VERSION, {
      '2999999999998_create_upgrade_probe.js': probe,
      '2999999999999_broken.js': broken,
    })
    const upgrade = await run(join(bundle, 'install.sh'), [
      '--root',
      root,
      '--no-systemd',
      '--no-user',
      '--upgrade',
    ])
    t.not(upgrade.code, 0)
    t.regex(upgrade.output, /UPGRADE FAILED: a database migration of .*-broken failed/)
    t.regex(
      upgrade.output,
      new RegExp(`Quad ${NEXT_VERSION.replace(/\./g, '\\.')} is running again`)
    )
    t.is(currentVersion(), NEXT_VERSION)
    t.false(existsSync(join(root, 'opt/quad', BROKEN_VERSION)), 'the failed version is removed')
    t.false(
      sqliteTables().includes('upgrade_probe'),
      'the database is as it was before the upgrade'
    )
    t.is((await get('/readyz')).status, 200)
    t.is((await get('/login')).status, 200)

    const stop = await quadctl('stop')
    t.is(stop.code, 0, stop.output)
    t.is((await quadctl('status', '--quiet')).code, 3)
  }
)

function readLog(): string {
  const log = join(root, 'var/lib/quad/logs/quad.log')
  return existsSync(log) ? `\n--- quad.log ---\n${readFileSync(log, 'utf8').slice(-4000)}` : ''
}
