import vine from '@vinejs/vine'
import { MAX_NOTE_LENGTH } from '#cards/services/card_rules'
import { MAX_DEVICE_LABEL_LENGTH } from '#cards/actions/issue_device_credential'
import { PUBLIC_ID } from '#cards/validators/cards'

/** Which of the person's cards; their first live card when left out. */
const cardField = () => vine.string().trim().toUpperCase().regex(PUBLIC_ID).optional()

export const cardChallengeValidator = vine.create({ card: cardField() })

/** Activation and renewal: the raw device public key and its proof, base64url. */
export const cardDeviceValidator = vine.create({
  card: cardField(),
  publicKey: vine.string().regex(/^[A-Za-z0-9_-]{43}$/),
  challenge: vine.string().maxLength(2000),
  proof: vine.string().regex(/^[A-Za-z0-9_-]{86}$/),
  label: vine.string().trim().maxLength(MAX_DEVICE_LABEL_LENGTH).optional(),
})

export const cardLossValidator = vine.create({
  card: cardField(),
  note: vine.string().trim().maxLength(MAX_NOTE_LENGTH).optional(),
})
