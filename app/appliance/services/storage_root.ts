import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { randomBytes } from 'node:crypto'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The storage root holds everything that matters for a backup: the SQLite
 * database, keys, the CA, uploads and backups. This file is plain Node on
 * purpose: the HTTP entrypoint and the env loader use it before the
 * application container exists.
 */
const APP_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')

export const DIR_MODE = 0o700
export const FILE_MODE = 0o600

/**
 * What this process created in the storage root. Every entrypoint prepares
 * the folders and the app key while it boots, before a command runs, so
 * storage:prepare reads here what the boot created.
 */
const createdHere: string[] = []

/** Paths this process created in the storage root, in creation order. */
export function createdByThisProcess(): readonly string[] {
  return createdHere
}

/** Absolute path of the storage root (QUAD_STORAGE, default `<app>/storage`). */
export function storageRoot(): string {
  const configured = process.env.QUAD_STORAGE
  if (!configured) return join(APP_ROOT, 'storage')
  return isAbsolute(configured) ? configured : resolve(APP_ROOT, configured)
}

/** A path inside the storage root. */
export function storagePath(...parts: string[]): string {
  return join(storageRoot(), ...parts)
}

/** Creates a folder (and its parents) with mode 0700, tightening it if it exists. */
export function ensurePrivateDir(path: string): string {
  mkdirSync(path, { recursive: true, mode: DIR_MODE })
  chmodSync(path, DIR_MODE)
  return path
}

/**
 * Writes a secret file atomically with mode 0600: a reader never sees a
 * half-written key.
 */
export function writePrivateFile(path: string, contents: string | Buffer): void {
  ensurePrivateDir(dirname(path))
  const temporary = `${path}.${process.pid}.tmp`
  writeFileSync(temporary, contents, { mode: FILE_MODE })
  chmodSync(temporary, FILE_MODE)
  renameSync(temporary, path)
}

/** The folders every storage root has. */
export const STORAGE_FOLDERS = ['db', 'keys', 'pki', 'uploads', 'backups', 'logs', 'tmp'] as const

/** Creates the storage root and its folders with tight modes. */
export function prepareStorageFolders(): string[] {
  const created: string[] = []
  for (const path of [storageRoot(), ...STORAGE_FOLDERS.map((folder) => storagePath(folder))]) {
    if (!existsSync(path)) created.push(path)
    ensurePrivateDir(path)
  }
  createdHere.push(...created)
  return created
}

/** Where the application key lives when APP_KEY is not set. */
export function appKeyPath(): string {
  return storagePath('keys', 'app.key')
}

/**
 * Returns the application key (cookie and session encryption), creating it on
 * first use. APP_KEY from the environment wins, for containers that inject it.
 */
export function ensureAppKey(): string {
  if (process.env.APP_KEY) return process.env.APP_KEY
  const path = appKeyPath()
  if (existsSync(path)) return readFileSync(path, 'utf8').trim()
  const key = randomBytes(32).toString('base64url')
  writePrivateFile(path, `${key}\n`)
  createdHere.push(path)
  return key
}

/**
 * Narrows an existing file to mode 0600 (a key restored from a backup or
 * copied by hand may be readable by others). Returns true if it changed.
 */
export function tightenFileMode(path: string): boolean {
  if (!existsSync(path)) return false
  const mode = statSync(path).mode & 0o777
  if (mode === FILE_MODE) return false
  chmodSync(path, FILE_MODE)
  return true
}
