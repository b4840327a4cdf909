import { DateTime } from 'luxon'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import { toHex } from '#cards/campus_code/bytes'
import type Card from '#cards/models/card'
import CardDevice from '#cards/models/card_device'
import CardType from '#cards/models/card_type'
import { ActivateCard } from '#cards/actions/activate_card'
import { addToBlacklist, removeFromBlacklist } from '#cards/services/blacklist'
import { lockCard } from '#cards/services/card_lookup'
import { DEFAULT_CODE_POLICY } from '#cards/services/code_policy'
import { CREDENTIAL_SECONDS, deviceInUse, unixSeconds } from '#cards/services/card_devices'
import { signCredential } from '#cards/services/issuer_signing'
import { inTransaction } from '#cards/services/transactions'

export interface IssueDeviceCredentialInput {
  /** The card, which must belong to `personId`. */
  cardId: number
  personId: number
  /** Raw Ed25519 device public key; the caller has checked its proof of possession. */
  publicKey: Uint8Array
  /**
   * activate: bind this device to the card (activating a pending card; a
   * device already in use is replaced). renew: a fresh credential for the
   * device in use.
   */
  mode: 'activate' | 'renew'
  label?: string | null
}

export type IssueDeviceCredentialError =
  'not_found' | 'card_not_usable' | 'card_expired' | 'not_yet_valid' | 'unknown_device'

export interface IssuedDeviceCredential {
  card: Card
  device: CardDevice
  credential: Uint8Array
  kid: string
  issuedAt: number
  validUntil: number
}

export const MAX_DEVICE_LABEL_LENGTH = 120

/**
 * Signs a campus-code credential for a card's phone (docs/campus-code.md
 * §11): at activation it binds the device key to the card, and later renews
 * the credential of the same key. Frozen, revoked and expired cards get
 * none. The credential lasts 7 days, or until the card ends if sooner.
 */
export class IssueDeviceCredential {
  async handle(
    input: IssueDeviceCredentialInput,
    actor: AuditActor,
    trx?: TransactionClientContract
  ): Promise<Result<IssuedDeviceCredential, IssueDeviceCredentialError>> {
    return inTransaction(trx, async (client) => {
      let card = await lockCard(client, { id: input.cardId })
      if (!card || card.personId !== input.personId) return fail('not_found')
      const now = DateTime.utc().set({ millisecond: 0 })
      if (card.validUntil && card.validUntil <= now) return fail('card_expired')
      const usable =
        card.state === 'active' ||
        (input.mode === 'activate' && card.state === 'pending_activation')
      if (!usable) return fail('card_not_usable', { state: card.state })

      const publicKey = toHex(input.publicKey)
      const current = await deviceInUse(card.id, client)
      let device: CardDevice
      const replaced: string[] = []
      if (input.mode === 'renew') {
        if (!current || current.publicKey !== publicKey) return fail('unknown_device')
        device = current
        device.lastRenewedAt = now
        await device.save()
      } else {
        if (card.state === 'pending_activation') {
          const activated = await new ActivateCard().handle(
            { card: { id: card.id } },
            actor,
            client
          )
          if (!activated.ok) return fail('card_not_usable', { state: card.state })
          card = activated.value
        }
        if (current && current.publicKey === publicKey) {
          device = current
          device.lastRenewedAt = now
          if (input.label) device.label = input.label.slice(0, MAX_DEVICE_LABEL_LENGTH)
          await device.save()
        } else {
          if (current) {
            current.revokedAt = now
            current.revokedReason = 'replaced'
            await current.save()
            replaced.push(current.publicId)
            // The old phone holds a credential for up to 7 days: list its key
            // so that neither the server nor an offline terminal takes its codes.
            await addToBlacklist(
              client,
              { kind: 'device', deviceKey: current.publicKey, cardId: card.id },
              'replaced',
              actor
            )
          }
          // A phone coming back to a card it had left is welcome again.
          await removeFromBlacklist(client, { kind: 'device', deviceKey: publicKey }, actor)
          device = new CardDevice()
          device.useTransaction(client)
          device.fill({
            cardId: card.id,
            publicKey,
            label: input.label?.slice(0, MAX_DEVICE_LABEL_LENGTH) || null,
            lastRenewedAt: now,
            revokedAt: null,
            revokedReason: null,
          })
          await device.save()
        }
      }

      // What the card type's codes may do, signed into the credential.
      const type = await CardType.find(card.cardTypeId, { client })
      const policy = type?.codePolicy ?? DEFAULT_CODE_POLICY
      const issuedAt = unixSeconds(now)
      const validFrom = Math.max(issuedAt, unixSeconds(card.validFrom))
      let validUntil = issuedAt + CREDENTIAL_SECONDS
      if (card.validUntil) validUntil = Math.min(validUntil, unixSeconds(card.validUntil))
      if (validUntil <= validFrom) return fail('not_yet_valid')
      const { kid, credential } = await signCredential({
        cardNo: card.cardNo,
        cardType: card.cardTypeId & 0xff,
        devicePublicKey: input.publicKey,
        issuedAt,
        validFrom,
        validUntil,
        offlineLimits: policy.offline,
        permissions: policy.permissions,
      })
      await recordAudit(
        actor,
        {
          action: input.mode === 'activate' ? 'cards.device_activated' : 'cards.credential_renewed',
          subjectType: 'card',
          subjectId: card.publicId,
          meta: {
            cardNo: card.cardNo,
            device: device.publicId,
            publicKey,
            label: device.label,
            replaced,
            kid,
            validUntil: new Date(validUntil * 1000).toISOString(),
          },
        },
        client
      )
      return ok({ card, device, credential, kid, issuedAt, validUntil })
    })
  }
}
