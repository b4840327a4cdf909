import { randomBytes } from 'node:crypto'
import { copyFile, open, rm, stat } from 'node:fs/promises'
import { dirname, join, normalize } from 'node:path'
import { fail, ok, type Result } from '#core/services/result'
import { ensurePrivateDir, storagePath } from '#appliance/services/storage_root'

/**
 * Card face images (background and logo) live in the storage root
 * (uploads/cards/), so that a backup holds them; the console serves them
 * through an authorized route, never from public/.
 */

export const FACE_IMAGE_KINDS = ['background', 'logo'] as const
export type FaceImageKind = (typeof FACE_IMAGE_KINDS)[number]

/** A background is a full-card picture; a logo is small. */
export const MAX_IMAGE_BYTES: Record<FaceImageKind, number> = {
  background: 2 * 1024 * 1024,
  logo: 512 * 1024,
}

export type FaceImageError = 'image_not_image' | 'image_too_large'

const TYPES = { jpg: 'image/jpeg', png: 'image/png', webp: 'image/webp' } as const
type Extension = keyof typeof TYPES

/** JPEG, PNG or WebP by their first bytes, whatever the file is called (no SVG: it can carry script). */
function sniff(head: Buffer): Extension | null {
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpg'
  if (head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])))
    return 'png'
  if (
    head.subarray(0, 4).toString('latin1') === 'RIFF' &&
    head.subarray(8, 12).toString('latin1') === 'WEBP'
  )
    return 'webp'
  return null
}

/** Absolute path of a stored face image; refuses paths that leave the uploads folder. */
export function faceImagePath(relative: string): string {
  const root = storagePath('uploads')
  const absolute = normalize(join(root, relative))
  if (!absolute.startsWith(`${root}/cards/`))
    throw new Error('face image path outside uploads/cards')
  return absolute
}

export function faceImageContentType(relative: string): string {
  return TYPES[relative.split('.').pop() as Extension] ?? 'application/octet-stream'
}

/**
 * Checks an uploaded file (a JPEG, PNG or WebP within the size limit of its
 * kind) and copies it under a random name. Returns the path relative to uploads/.
 */
export async function storeFaceImage(
  sourcePath: string,
  kind: FaceImageKind
): Promise<Result<string, FaceImageError>> {
  const info = await stat(sourcePath)
  if (info.size > MAX_IMAGE_BYTES[kind]) return fail('image_too_large')
  if (info.size === 0) return fail('image_not_image')
  const handle = await open(sourcePath, 'r')
  const head = Buffer.alloc(12)
  try {
    await handle.read(head, 0, 12, 0)
  } finally {
    await handle.close()
  }
  const extension = sniff(head)
  if (!extension) return fail('image_not_image')
  const relative = `cards/${randomBytes(16).toString('hex')}.${extension}`
  const target = faceImagePath(relative)
  ensurePrivateDir(dirname(target))
  await copyFile(sourcePath, target)
  return ok(relative)
}

/** Deletes a stored face image; a missing file is not an error. */
export async function removeFaceImage(relative: string | null | undefined): Promise<void> {
  if (!relative) return
  await rm(faceImagePath(relative), { force: true })
}
