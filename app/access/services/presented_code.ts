/**
 * Turns a campus code verification into what the access decision takes,
 * the same way on a terminal and on the server: a refused code keeps its
 * card number only when the school's signature over the credential was
 * checked (a forged card number is never logged as someone's).
 */
import { base45Decode } from '#cards/campus_code/base45'
import { decodeCode } from '#cards/campus_code/layout'
import type { Result } from '#cards/campus_code/result'
import type { AcceptError, VerifiedCode } from '#cards/campus_code/verify'
import type { PresentedCredential } from '#access/services/access_decision'

/** Refusals that come before the issuer signature is checked, or that fail it. */
const UNSIGNED_ERRORS: readonly string[] = [
  'malformed',
  'unsupported_version',
  'unknown_issuer_key',
  'bad_issuer_signature',
]

/** The card number in a code's credential, when the text decodes. */
function cardNoInText(text: string): string | null {
  const bytes = base45Decode(text)
  if (!bytes.ok) return null
  const decoded = decodeCode(bytes.value)
  return decoded.ok ? decoded.value.credential.cardNo : null
}

/** The presented credential of a verified (or refused) campus code. */
export function presentedCode(
  result: Result<VerifiedCode, AcceptError | string>,
  text: string
): PresentedCredential {
  if (result.ok) {
    return { kind: 'code', cardNo: result.value.cardNo, permissions: result.value.permissions }
  }
  return {
    kind: 'code_refused',
    error: result.error,
    cardNo: UNSIGNED_ERRORS.includes(result.error) ? null : cardNoInText(text),
  }
}
