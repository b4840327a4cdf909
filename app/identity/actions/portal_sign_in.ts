import { recordAudit } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import Person from '#identity/models/person'
import PortalCredential from '#identity/models/portal_credential'
import { countPortalFailure, isPortalNameLocked } from '#identity/services/portal_lockout'
import { checkPortalPassword } from '#identity/services/portal_passwords'
import { personMaySignIn } from '#identity/services/portal_sessions'

export type PortalSignInError = 'invalid_credentials' | 'locked' | 'refused'

export interface PortalSignInSuccess {
  person: Person
  /** The steps still ahead before a session starts. */
  needsSecondFactor: boolean
  needsNewPassword: boolean
}

/** Where the request came from, for the audit log. */
export interface RequestOrigin {
  ip?: string | null
  userAgent?: string | null
}

/**
 * The person a sign-in name stands for: a person number (any case), or an
 * e-mail address that exactly one person has.
 */
export async function findPersonBySignInName(name: string): Promise<Person | null> {
  const given = name.trim()
  if (!given) return null
  if (given.includes('@')) {
    const matches = await Person.query()
      .whereRaw('lower(email) = ?', [given.toLowerCase()])
      .limit(2)
    return matches.length === 1 ? matches[0] : null
  }
  return Person.findBy('person_no', given.toUpperCase())
}

/**
 * First step of a portal sign-in: the password. Answers the same for an
 * unknown name, a person without a portal password and a wrong password;
 * only someone who knows the password learns that the person is suspended
 * or has left.
 */
export class PortalSignIn {
  async handle(
    name: string,
    password: string,
    origin: RequestOrigin
  ): Promise<Result<PortalSignInSuccess, PortalSignInError>> {
    const given = name.trim()
    const person = await findPersonBySignInName(given)
    // Failures count against the person, however they named themselves.
    const lockName = person?.personNo ?? given
    const anonymous = { type: 'anonymous' as const, name: given.slice(0, 64), ...origin }
    if (await isPortalNameLocked(lockName)) {
      await recordAudit(anonymous, {
        action: 'portal.sign_in_failed',
        subjectType: person ? 'person' : null,
        subjectId: person?.publicId ?? null,
        outcome: 'denied',
        meta: { name: given.slice(0, 64), step: 'locked' },
      })
      return fail('locked')
    }
    const credential = person ? await PortalCredential.findBy('person_id', person.id) : null
    const passwordOk = await checkPortalPassword(credential?.passwordHash ?? null, password)
    if (!person || !credential || !passwordOk) {
      const locked = await countPortalFailure(lockName, person, anonymous, 'password')
      return fail(locked ? 'locked' : 'invalid_credentials')
    }
    if (!personMaySignIn(person)) {
      await recordAudit(anonymous, {
        action: 'portal.sign_in_failed',
        subjectType: 'person',
        subjectId: person.publicId,
        outcome: 'denied',
        meta: { name: given.slice(0, 64), step: 'status', status: person.status },
      })
      return fail('refused')
    }
    return ok({
      person,
      needsSecondFactor: credential.totpEnabled,
      needsNewPassword: credential.mustChangePassword,
    })
  }
}
