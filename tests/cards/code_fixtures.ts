/**
 * Campus codes for a card in the registry, signed with the appliance's own
 * issuer key as activation signs them. Import after the app has booted.
 */
import type { CredentialFields } from '#cards/campus_code/layout'

const DAY = 86400

export const nowSeconds = () => Math.floor(Date.now() / 1000)

export interface HolderDevice {
  cardNo: string
  credential: Uint8Array
  privateKey: Awaited<
    ReturnType<typeof import('#cards/campus_code/index').generateDeviceKeys>
  >['privateKey']
  nextCounter: number
}

/** A device key with a credential for the card, valid from `from` for 7 days. */
export async function givenHolderDevice(
  cardNo: string,
  from = nowSeconds() - 60
): Promise<HolderDevice> {
  const { ensureIssuerKey } = await import('#appliance/services/issuer_keys')
  const { generateDeviceKeys } = await import('#cards/campus_code/index')
  const { signCredential } = await import('#cards/services/issuer_signing')
  ensureIssuerKey()
  const device = await generateDeviceKeys()
  const fields: CredentialFields = {
    cardNo,
    cardType: 1,
    devicePublicKey: device.publicKey,
    issuedAt: from,
    validFrom: from,
    validUntil: from + 7 * DAY,
    offlineLimits: { maxCountPerDay: 5, maxAmountPerDayFen: 10000, maxSingleAmountFen: 2000 },
    permissions: ['payment', 'access'],
  }
  const { credential } = await signCredential(fields)
  return { cardNo, credential, privateKey: device.privateKey, nextCounter: 1 }
}

/** A fresh code of the device made at `at` (default now), with the next counter. */
export async function codeOf(device: HolderDevice, at = nowSeconds()): Promise<string> {
  const { makeCode } = await import('#cards/campus_code/index')
  const counter = device.nextCounter++
  return (await makeCode(device.credential, device.privateKey, { now: at, counter })).text
}

/** The code with one bit of its issuer signature flipped: a forgery. */
export async function forged(text: string): Promise<string> {
  const { base45Decode, base45Encode, OFFSETS } = await import('#cards/campus_code/index')
  const decoded = base45Decode(text)
  if (!decoded.ok) throw new Error('not a code')
  const bytes = decoded.value.slice()
  bytes[OFFSETS.issuerSignature + 5] ^= 0x01
  return base45Encode(bytes)
}

/** Issues a card of the type to the person; returns the card. */
export async function givenCard(personId: number, code = 'teacher') {
  const { IssueCard } = await import('#cards/actions/issue_card')
  const result = await new IssueCard().handle(
    { person: { id: personId }, cardType: { code } },
    { type: 'system' }
  )
  if (!result.ok) throw new Error(result.error)
  return result.value
}
