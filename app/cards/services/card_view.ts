import type { DateTime } from 'luxon'
import type Card from '#cards/models/card'
import type CardType from '#cards/models/card_type'
import type { CardState } from '#cards/services/card_rules'
import type { CardFace } from '#cards/services/card_face'
import { formatCardNo } from '#cards/services/card_numbers'
import { schoolTimeZone } from '#appliance/services/school_settings'

/** The badge class of a card state. */
export function stateBadge(state: CardState): string {
  switch (state) {
    case 'active':
      return 'badge--success'
    case 'frozen':
      return 'badge--danger'
    case 'pending_activation':
      return 'badge--warning'
    default:
      return ''
  }
}

/** What the card face drawing needs (components of pages/cards/face.edge). */
export interface FaceView {
  /** Distinguishes several faces on one page (SVG ids). */
  key: string
  face: CardFace
  schoolName: string
  title: string
  typeName: string
  name: string
  org: string
  number: string
  validity: string
  photoUrl: string | null
  backgroundUrl: string | null
  logoUrl: string | null
  /** The form input the live preview takes the type name from. */
  typeInput: 'nameZh' | 'nameEn'
}

/** The URL of a type's stored face image, versioned by its file name so that a new upload shows at once. */
export function faceImageUrl(type: CardType, kind: 'background' | 'logo'): string | null {
  const path = type.face[kind]
  if (!path) return null
  const version = path.split('/').pop()!.split('.')[0]
  return `/console/card-types/${type.publicId}/face/${kind}?v=${version}`
}

/** A date as the face prints it, in the school's time zone. */
export function faceDate(time: DateTime | null): string {
  return time ? time.setZone(schoolTimeZone()).toFormat('yyyy-MM-dd') : ''
}

export interface FaceSample {
  name: string
  org: string
  number: string
  validity: string
  photoUrl: string | null
}

/** The face of a type with sample data (the type editor) or a real card's data. */
export function faceView(options: {
  key: string
  type: CardType | null
  face: CardFace
  locale: string
  schoolName: string
  typeName: string
  sample: FaceSample
}): FaceView {
  const { type, face } = options
  return {
    key: options.key,
    face,
    schoolName: options.schoolName,
    title: face.title || options.schoolName,
    typeName: options.typeName,
    ...options.sample,
    backgroundUrl: type ? faceImageUrl(type, 'background') : null,
    logoUrl: type ? faceImageUrl(type, 'logo') : null,
    typeInput: options.locale.startsWith('zh') ? 'nameZh' : 'nameEn',
  }
}

/** A card's own data for its face. */
export function cardSample(
  card: Card,
  options: { validityLabel: (until: string) => string; noEnd: string; photoUrl: string | null }
): FaceSample {
  return {
    name: card.person.name,
    org: card.person.orgUnit?.name ?? '',
    number: formatCardNo(card.cardNo),
    validity: card.validUntil ? options.validityLabel(faceDate(card.validUntil)) : options.noEnd,
    photoUrl: options.photoUrl,
  }
}
