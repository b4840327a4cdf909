import { randomBytes } from 'node:crypto'
import { copyFile, open, rm, stat } from 'node:fs/promises'
import { dirname, join, normalize } from 'node:path'
import { ensurePrivateDir, storagePath } from '#appliance/services/storage_root'

/**
 * Photos of people live in the storage root (uploads/people/), never under
 * public/: they are personal data and are served only to signed-in staff
 * through the console.
 */

export const MAX_PHOTO_BYTES = 2 * 1024 * 1024

export type PhotoError = 'photo_not_image' | 'photo_too_large'

const TYPES = {
  jpg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
} as const

type PhotoExtension = keyof typeof TYPES

/** Recognizes JPEG, PNG and WebP by their first bytes, whatever the file is called. */
function sniff(head: Buffer): PhotoExtension | null {
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpg'
  if (head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) {
    return 'png'
  }
  if (
    head.subarray(0, 4).toString('latin1') === 'RIFF' &&
    head.subarray(8, 12).toString('latin1') === 'WEBP'
  ) {
    return 'webp'
  }
  return null
}

/** Absolute path of a stored photo; refuses paths that leave the uploads folder. */
export function photoAbsolutePath(relative: string): string {
  const root = storagePath('uploads')
  const absolute = normalize(join(root, relative))
  if (!absolute.startsWith(`${root}/`)) throw new Error('photo path outside uploads')
  return absolute
}

/** The content type to serve a stored photo with. */
export function photoContentType(relative: string): string {
  const extension = relative.split('.').pop() as PhotoExtension
  return TYPES[extension] ?? 'application/octet-stream'
}

/**
 * Copies an uploaded file into the uploads folder under a random name after
 * checking that it is a JPEG, PNG or WebP image of at most 2 MB. Returns the
 * path relative to uploads/.
 */
export async function storePersonPhoto(
  sourcePath: string
): Promise<{ ok: true; value: string } | { ok: false; error: PhotoError }> {
  const info = await stat(sourcePath)
  if (info.size > MAX_PHOTO_BYTES) return { ok: false, error: 'photo_too_large' }
  const handle = await open(sourcePath, 'r')
  const head = Buffer.alloc(12)
  try {
    await handle.read(head, 0, 12, 0)
  } finally {
    await handle.close()
  }
  const extension = sniff(head)
  if (!extension) return { ok: false, error: 'photo_not_image' }
  const relative = `people/${randomBytes(16).toString('hex')}.${extension}`
  const target = photoAbsolutePath(relative)
  ensurePrivateDir(dirname(target))
  await copyFile(sourcePath, target)
  return { ok: true, value: relative }
}

/** Deletes a stored photo; a missing file is not an error. */
export async function removePersonPhoto(relative: string | null | undefined): Promise<void> {
  if (!relative) return
  await rm(photoAbsolutePath(relative), { force: true })
}
