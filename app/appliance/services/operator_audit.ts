import { userInfo } from 'node:os'
import db from '@adonisjs/lucid/services/db'
import type { AuditActor } from '#core/services/audit'

/**
 * The audit actor of an ace command: the operating-system account that ran
 * it, and the account behind sudo when there is one, so that the audit log
 * says which operator changed the appliance from its shell.
 */
export function operatorActor(command: string): AuditActor {
  let account = process.env.USER ?? 'unknown'
  try {
    account = userInfo().username
  } catch {
    // No passwd entry for this uid (some containers): keep $USER.
  }
  const sudoUser = process.env.SUDO_USER
  const name = sudoUser && sudoUser !== account ? `${account} (sudo by ${sudoUser})` : account
  // actor_name holds 100 characters.
  return { type: 'system', name: `operator:${name}`.slice(0, 100), userAgent: `ace ${command}` }
}

/**
 * Why the audit log cannot be written right now (database unreachable or not
 * migrated yet), or null when it can.
 */
export async function auditLogProblem(): Promise<string | null> {
  try {
    if (await db.connection().schema.hasTable('audit_heads')) return null
    return 'the database is not migrated yet (node ace migration:run --force)'
  } catch (error) {
    return `the database is not reachable (${(error as Error).message.slice(0, 160)})`
  }
}
