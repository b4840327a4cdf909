import db from '@adonisjs/lucid/services/db'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import AdminGrant from '#identity/models/admin_grant'
import User from '#identity/models/user'
import { passwordProblems, type PasswordProblem } from '#identity/services/password_policy'
import {
  grantRecord,
  resolveGrantTarget,
  type GrantTargetError,
} from '#identity/services/admin_grants'

export interface NewAdminInput {
  username: string
  displayName: string
  email: string | null
  password: string
  /** The first grant: a role's public id and, for part of the tree, a unit's. */
  role: string
  unit: string | null
}

export type CreateAdminError = 'username_taken' | PasswordProblem | GrantTargetError

/**
 * Creates a console account with its first grant, in one transaction. The
 * account enrolls its authenticator app at its first sign-in, as every
 * account created without one does.
 */
export class CreateAdminAccount {
  async handle(input: NewAdminInput, actor: AuditActor): Promise<Result<User, CreateAdminError>> {
    const username = input.username.trim().toLowerCase()
    const problems = passwordProblems(input.password, username)
    if (problems.length > 0) return fail(problems[0], { problems })
    return db.transaction(async (trx) => {
      if (await User.query({ client: trx }).where('username', username).first()) {
        return fail('username_taken')
      }
      const target = await resolveGrantTarget(trx, input.role, input.unit)
      if (!target.ok) return target
      const { role, unit } = target.value
      const user = new User()
      user.useTransaction(trx)
      user.merge({
        username,
        displayName: input.displayName,
        email: input.email,
        password: input.password,
        role: role.key,
        totpSecret: null,
        totpConfirmedAt: null,
      })
      user.grantsGivenByCaller = true
      await user.save()
      const grant = await AdminGrant.create(
        { userId: user.id, roleId: role.id, orgUnitId: unit?.id ?? null, grantedBy: actor.id },
        { client: trx }
      )
      await recordAudit(
        actor,
        {
          action: 'admins.account_created',
          subjectType: 'user',
          subjectId: user.publicId,
          after: {
            username: user.username,
            displayName: user.displayName,
            email: user.email,
            grants: [{ publicId: grant.publicId, ...grantRecord(role, unit) }],
          },
        },
        trx
      )
      return ok(user)
    })
  }
}
