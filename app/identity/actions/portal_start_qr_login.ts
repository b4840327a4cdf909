import { DateTime } from 'luxon'
import PortalQrChallenge from '#identity/models/portal_qr_challenge'
import { deviceLabel } from '#identity/services/portal_devices'
import { QR_CHALLENGE_TTL_SECONDS } from '#identity/services/portal_qr'
import { newSecret, secretDigest } from '#identity/services/portal_secrets'
import type { RequestOrigin } from '#identity/actions/portal_sign_in'

export interface StartedQrLogin {
  challenge: PortalQrChallenge
  /** Goes into the QR code's URL. */
  token: string
  /** Goes into the desktop's cookie. */
  browserSecret: string
}

/**
 * A desktop sign-in page asks for a QR code. The phone that scans it sees
 * this desktop's address and browser, so the row keeps them.
 */
export class StartQrLogin {
  async handle(origin: RequestOrigin): Promise<StartedQrLogin> {
    const token = newSecret()
    const browserSecret = newSecret()
    const now = DateTime.utc()
    const challenge = await PortalQrChallenge.create({
      tokenHash: secretDigest(token),
      browserHash: secretDigest(browserSecret),
      status: 'pending',
      desktopIp: origin.ip ?? null,
      desktopUserAgent: origin.userAgent ? origin.userAgent.slice(0, 255) : null,
      desktopLabel: deviceLabel(origin.userAgent),
      personId: null,
      secondFactorPassed: false,
      expiresAt: now.plus({ seconds: QR_CHALLENGE_TTL_SECONDS }),
      createdAt: now,
    })
    return { challenge, token, browserSecret }
  }
}
