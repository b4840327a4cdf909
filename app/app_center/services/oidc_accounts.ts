import type { Account } from 'oidc-provider'
import Person from '#identity/models/person'
import { orgUnitLineage } from '#identity/services/org_tree'
import { decryptPii } from '#identity/services/pii'
import { personMaySignIn } from '#identity/services/portal_sessions'

/**
 * People as the OpenID Connect provider sees them. The subject (`sub`) is
 * the person's public id: stable for life, the same for every app, and
 * unrelated to the person number, which a school may correct.
 */

/** Which claims each scope releases; the provider filters by these. */
export const OIDC_CLAIMS = {
  openid: ['sub'],
  profile: ['name', 'person_number', 'identity_type', 'org_unit', 'org_unit_path', 'updated_at'],
  email: ['email', 'email_verified'],
  phone: ['phone_number', 'phone_number_verified'],
  campus: ['person_status', 'enrollment_year', 'org_unit_code'],
}

/** What a person's claims are made of, for the given scopes. */
export async function personClaims(
  person: Person,
  scope: string
): Promise<Record<string, unknown>> {
  const scopes = new Set(scope.split(' '))
  const claims: Record<string, unknown> = { sub: person.publicId }
  if (scopes.has('profile') || scopes.has('campus')) await person.load('orgUnit')
  if (scopes.has('profile')) {
    const lineage = await orgUnitLineage(person.orgUnit)
    Object.assign(claims, {
      name: person.name,
      person_number: person.personNo,
      identity_type: person.identityType,
      org_unit: person.orgUnit.name,
      org_unit_path: lineage.map((unit) => unit.name),
      updated_at: Math.floor(person.updatedAt.toSeconds()),
    })
  }
  // The registry's addresses and numbers are entered by the school, not
  // proved by the person: they are not claimed as verified.
  if (scopes.has('email') && person.email) {
    Object.assign(claims, { email: person.email, email_verified: false })
  }
  // Decrypted only when the app was granted the phone scope.
  if (scopes.has('phone') && person.phoneCiphertext) {
    Object.assign(claims, {
      phone_number: decryptPii('phone', person.phoneCiphertext),
      phone_number_verified: false,
    })
  }
  if (scopes.has('campus')) {
    Object.assign(claims, {
      person_status: person.status,
      enrollment_year: person.enrollmentYear,
      org_unit_code: person.orgUnit.code,
    })
  }
  return claims
}

/**
 * The account behind a subject, or undefined when there is none any more:
 * a person who is suspended or has left has no account, so their codes,
 * refresh tokens and userinfo requests are refused.
 */
export async function findOidcAccount(sub: unknown): Promise<Account | undefined> {
  if (typeof sub !== 'string' || !/^[0-9A-HJKMNP-TV-Z]{26}$/.test(sub)) return undefined
  const person = await Person.findBy('public_id', sub)
  if (!person || !personMaySignIn(person)) return undefined
  return {
    accountId: person.publicId,
    claims: (_use, scope) => personClaims(person, scope),
  }
}

/** Whether the person behind a subject may still use apps (for introspection). */
export async function accountIsActive(sub: unknown): Promise<boolean> {
  return (await findOidcAccount(sub)) !== undefined
}
