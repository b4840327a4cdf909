import { fail, ok, type Result } from '#core/services/result'

/**
 * A card type's face: colours, which fields show, a title (the school's
 * name when empty), and optional background and logo images stored in the
 * storage root. The console previews it as SVG; the portal will draw the
 * same document.
 */

export const FACE_FIELDS = ['name', 'photo', 'number', 'org', 'type', 'validity'] as const
export type FaceField = (typeof FACE_FIELDS)[number]

export const FACE_COLORS = ['background', 'text', 'accent'] as const
export type FaceColor = (typeof FACE_COLORS)[number]

export interface CardFace {
  title: string
  colors: Record<FaceColor, string>
  fields: Record<FaceField, boolean>
  /** Relative to the storage root's uploads/ folder. */
  background: string | null
  logo: string | null
}

export const MAX_TITLE_LENGTH = 40

const COLOR = /^#[0-9A-F]{6}$/

export const DEFAULT_FACE: CardFace = {
  title: '',
  colors: { background: '#1F4E9E', text: '#FFFFFF', accent: '#F2C94C' },
  fields: { name: true, photo: true, number: true, org: true, type: true, validity: true },
  background: null,
  logo: null,
}

/** Stored image paths are names the appliance chose: cards/<hex>.<ext>. */
const IMAGE_PATH = /^cards\/[0-9a-f]{32}\.(png|jpg|webp)$/

export type FaceError = 'face_color' | 'face_title'

export interface FaceInput {
  title?: string | null
  colors?: Partial<Record<FaceColor, string | null>>
  fields?: Partial<Record<FaceField, boolean>>
  background?: string | null
  logo?: string | null
}

/** Checks a face from a form: colours as #RRGGBB, a short title, known image paths. */
export function checkFace(input: FaceInput): Result<CardFace, FaceError> {
  const title = (input.title ?? '').trim()
  if (title.length > MAX_TITLE_LENGTH) return fail('face_title')
  const colors = { ...DEFAULT_FACE.colors }
  for (const key of FACE_COLORS) {
    const value = input.colors?.[key]
    if (value === undefined || value === null || value === '') continue
    const upper = String(value).trim().toUpperCase()
    if (!COLOR.test(upper)) return fail('face_color', { color: key })
    colors[key] = upper
  }
  const fields = { ...DEFAULT_FACE.fields }
  if (input.fields) for (const key of FACE_FIELDS) fields[key] = input.fields[key] === true
  const image = (value: string | null | undefined) =>
    value && IMAGE_PATH.test(value) ? value : null
  return ok({ title, colors, fields, background: image(input.background), logo: image(input.logo) })
}

/** Reads a stored face; anything damaged falls back to the defaults. */
export function readFace(stored: string | CardFace): CardFace {
  try {
    const value = typeof stored === 'string' ? JSON.parse(stored) : stored
    const checked = checkFace(value ?? {})
    return checked.ok ? checked.value : { ...DEFAULT_FACE }
  } catch {
    return { ...DEFAULT_FACE }
  }
}
