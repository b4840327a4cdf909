/**
 * Console roles and what they may do. Policies ask `can(user, permission)`;
 * nothing else compares role names.
 */
export const PERMISSIONS = [
  'console.access',
  'audit.read',
  'audit.export',
  'jobs.read',
  'jobs.manage',
  'system.read',
  'admins.manage',
  'people.read',
  'people.write',
  'people.reveal_pii',
  'org.write',
  'audiences.read',
  'audiences.write',
  'api_clients.manage',
  'directory_sync.manage',
  'cards.read',
  'cards.write',
  'card_types.manage',
  'ledger.read',
  'ledger.write',
  'merchants.manage',
  'finance.reports',
  'apps.manage',
] as const

export type Permission = (typeof PERMISSIONS)[number]

export const ROLES = ['super_admin', 'auditor', 'operator'] as const

export type Role = (typeof ROLES)[number]

const GRANTS: Record<Role, readonly Permission[]> = {
  super_admin: PERMISSIONS,
  auditor: ['console.access', 'audit.read', 'audit.export', 'system.read'],
  operator: ['console.access', 'jobs.read', 'jobs.manage', 'system.read'],
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value)
}

/** True when the role grants the permission. Unknown roles grant nothing. */
export function roleGrants(role: string, permission: Permission): boolean {
  return isRole(role) && GRANTS[role].includes(permission)
}

/** Every console role requires a TOTP second factor. */
export function roleRequiresTotp(role: string): boolean {
  return isRole(role)
}
