import type { HttpContext } from '@adonisjs/core/http'
import { PORTAL_PASSWORD_MIN_LENGTH } from '#identity/services/portal_passwords'

/** The reasons a new password was refused, as inline errors under the field. */
export function passwordProblemsBag(
  ctx: HttpContext,
  details: Record<string, unknown> | undefined
): Record<string, string[]> {
  const problems = (details?.problems as string[] | undefined) ?? []
  return {
    newPassword: problems.map((problem) =>
      ctx.i18n.t(`portal.password.problems.${problem}`, { min: PORTAL_PASSWORD_MIN_LENGTH })
    ),
  }
}
