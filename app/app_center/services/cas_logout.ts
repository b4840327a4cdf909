import { randomUUID } from 'node:crypto'
import { DateTime } from 'luxon'
import encryption from '@adonisjs/core/services/encryption'
import logger from '@adonisjs/core/services/logger'
import quadConfig from '#config/quad'
import CasTicket from '#app_center/models/cas_ticket'
import { escapeXml } from '#app_center/services/cas_responses'

/**
 * CAS single logout: when a person signs out through /cas/logout, every
 * service that received a ticket in that portal session gets the SAML
 * LogoutRequest of the CAS protocol (a form POST, parameter
 * `logoutRequest`, naming the ticket in SessionIndex) so that it can end
 * its own session. Best effort: each POST waits a short while, runs in
 * parallel with the others, and its outcome is recorded on the ticket.
 */

export function logoutRequestXml(ticket: string, now = DateTime.utc()): string {
  return (
    '<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ' +
    'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ' +
    `ID="LR-${randomUUID()}" Version="2.0" IssueInstant="${now.toUTC().toISO({ suppressMilliseconds: true })}">` +
    '<saml:NameID>@NOT_USED@</saml:NameID>' +
    `<samlp:SessionIndex>${escapeXml(ticket)}</samlp:SessionIndex>` +
    '</samlp:LogoutRequest>'
  )
}

async function deliver(row: CasTicket): Promise<string> {
  const ticket = encryption.decrypt<string>(row.ticketCiphertext)
  if (!ticket) return 'error: unreadable ticket'
  try {
    const response = await fetch(row.service, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ logoutRequest: logoutRequestXml(ticket) }).toString(),
      redirect: 'manual',
      signal: AbortSignal.timeout(quadConfig.cas.logoutTimeoutMs),
    })
    await response.body?.cancel()
    return String(response.status)
  } catch (error) {
    const name = error instanceof Error ? error.name : 'Error'
    return name === 'TimeoutError' ? 'error: timeout' : `error: ${name}`.slice(0, 100)
  }
}

/** Notifies every service that got a ticket in the portal session; returns how many were tried. */
export async function singleLogout(portalSessionId: number): Promise<number> {
  const rows = await CasTicket.query()
    .where('portal_session_id', portalSessionId)
    .whereNull('logout_sent_at')
    .orderBy('id')
  await Promise.all(
    rows.map(async (row) => {
      const result = await deliver(row)
      if (!/^2\d\d$/.test(result)) {
        logger.warn({ service: row.service, result }, 'CAS single logout not accepted')
      }
      row.logoutSentAt = DateTime.utc()
      row.logoutResult = result
      await row.save()
    })
  )
  return rows.length
}
