import { randomBytes } from 'node:crypto'
import { copyFile, open, rm, stat } from 'node:fs/promises'
import { dirname, join, normalize } from 'node:path'
import { ensurePrivateDir, storagePath } from '#appliance/services/storage_root'

/**
 * App icons live in the storage root (uploads/apps/) so that a backup holds
 * them. Only raster images are accepted: an SVG can carry script. Each upload
 * gets a new random name, so a served icon never changes and can be cached
 * for good.
 */

export const MAX_ICON_BYTES = 512 * 1024

export type IconError = 'icon_not_image' | 'icon_too_large'

const TYPES = {
  png: 'image/png',
  jpg: 'image/jpeg',
  webp: 'image/webp',
} as const

type IconExtension = keyof typeof TYPES

/** Recognizes PNG, JPEG and WebP by their first bytes, whatever the file is called. */
function sniff(head: Buffer): IconExtension | null {
  if (head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) {
    return 'png'
  }
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpg'
  if (
    head.subarray(0, 4).toString('latin1') === 'RIFF' &&
    head.subarray(8, 12).toString('latin1') === 'WEBP'
  ) {
    return 'webp'
  }
  return null
}

/** The file name part of a stored icon path ("apps/<32 hex>.png"), or null if it is not one. */
export const ICON_FILE = /^[0-9a-f]{32}\.(png|jpg|webp)$/

/** Absolute path of a stored icon; refuses paths that leave the uploads folder. */
export function iconAbsolutePath(relative: string): string {
  const root = storagePath('uploads')
  const absolute = normalize(join(root, relative))
  if (!absolute.startsWith(`${root}/`)) throw new Error('icon path outside uploads')
  return absolute
}

/** The content type to serve a stored icon with. */
export function iconContentType(relative: string): string {
  const extension = relative.split('.').pop() as IconExtension
  return TYPES[extension] ?? 'application/octet-stream'
}

/**
 * Copies an uploaded file into uploads/apps/ under a random name after
 * checking that it is a PNG, JPEG or WebP image of at most 512 KB. Returns
 * the path relative to uploads/.
 */
export async function storeAppIcon(
  sourcePath: string
): Promise<{ ok: true; value: string } | { ok: false; error: IconError }> {
  const info = await stat(sourcePath)
  if (info.size > MAX_ICON_BYTES) return { ok: false, error: 'icon_too_large' }
  const handle = await open(sourcePath, 'r')
  const head = Buffer.alloc(12)
  try {
    await handle.read(head, 0, 12, 0)
  } finally {
    await handle.close()
  }
  const extension = sniff(head)
  if (!extension) return { ok: false, error: 'icon_not_image' }
  const relative = `apps/${randomBytes(16).toString('hex')}.${extension}`
  const target = iconAbsolutePath(relative)
  ensurePrivateDir(dirname(target))
  await copyFile(sourcePath, target)
  return { ok: true, value: relative }
}

/** Deletes a stored icon; a missing file is not an error. */
export async function removeAppIcon(relative: string | null | undefined): Promise<void> {
  if (!relative) return
  await rm(iconAbsolutePath(relative), { force: true })
}
