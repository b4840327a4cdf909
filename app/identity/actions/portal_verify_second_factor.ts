import encryption from '@adonisjs/core/services/encryption'
import db from '@adonisjs/lucid/services/db'
import { fail, ok, type Result } from '#core/services/result'
import { verifyTotp } from '#core/services/totp'
import Person from '#identity/models/person'
import PortalCredential from '#identity/models/portal_credential'
import { countPortalFailure, isPortalNameLocked } from '#identity/services/portal_lockout'
import type { RequestOrigin } from '#identity/actions/portal_sign_in'

export type PortalSecondFactorError = 'invalid_code' | 'locked'

/**
 * Records a TOTP step as used, if no later or equal step was used before.
 * The condition is in the UPDATE itself, so that two requests racing with
 * the same code cannot both succeed.
 */
export async function claimTotpStep(credentialId: number, step: number): Promise<boolean> {
  const changed = await db
    .from('portal_credentials')
    .where('id', credentialId)
    .where((query) => query.whereNull('totp_last_step').orWhere('totp_last_step', '<', step))
    .update({ totp_last_step: step })
  return Number(Array.isArray(changed) ? changed[0] : changed) > 0
}

/**
 * Second step of a portal sign-in for a person who turned on TOTP. A code
 * is accepted once; failures count towards the same lockout as passwords.
 */
export class PortalVerifySecondFactor {
  async handle(
    personId: number,
    code: string,
    origin: RequestOrigin
  ): Promise<Result<Person, PortalSecondFactorError>> {
    const person = await Person.findOrFail(personId)
    const credential = await PortalCredential.findByOrFail('person_id', person.id)
    if (await isPortalNameLocked(person.personNo)) return fail('locked')
    const secret = credential.totpSecret ? encryption.decrypt<string>(credential.totpSecret) : null
    const step = secret ? verifyTotp(secret, code) : null
    const claimed = step !== null && (await claimTotpStep(credential.id, step))
    if (!claimed) {
      const actor = { type: 'anonymous' as const, name: person.personNo, ...origin }
      const locked = await countPortalFailure(
        person.personNo,
        person,
        actor,
        step === null ? 'totp' : 'totp_replayed'
      )
      return fail(locked ? 'locked' : 'invalid_code')
    }
    return ok(person)
  }
}
