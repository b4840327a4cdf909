/**
 * The permission catalogue and the built-in roles. An account's permissions
 * are the union of its grants (app/identity/services/admin_access.ts);
 * policies ask for permissions, nothing compares role names.
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
  'portal_accounts.manage',
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
  'merchants.view',
  'merchants.manage',
  'finance.reports',
  'settlement.manage',
  'apps.manage',
  'access.view',
  'access.manage',
  'terminals.manage',
] as const

export type Permission = (typeof PERMISSIONS)[number]

/**
 * The roles Quad ships with, and what each grants. Their permissions live
 * here rather than in the database, so that a permission added by a release
 * reaches the built-in roles with that release. They cannot be edited or
 * deleted; schools build their own roles from the catalogue.
 */
export const BUILT_IN_ROLES = {
  super_admin: PERMISSIONS,
  card_office: ['console.access', 'cards.read', 'cards.write', 'card_types.manage', 'people.read'],
  finance: [
    'console.access',
    'ledger.read',
    'ledger.write',
    'merchants.view',
    'merchants.manage',
    'finance.reports',
    'settlement.manage',
    'people.read',
  ],
  enrollment_office: [
    'console.access',
    'people.read',
    'people.write',
    'org.write',
    'audiences.read',
    'audiences.write',
  ],
  messaging_officer: ['console.access', 'audiences.read', 'audiences.write', 'people.read'],
  // The security auditor of the three-officer split reads the audit log and
  // the system's state, and nothing of the people it audits.
  auditor: ['console.access', 'audit.read', 'audit.export', 'system.read'],
  operator: ['console.access', 'jobs.read', 'jobs.manage', 'system.read'],
} as const satisfies Record<string, readonly Permission[]>

export type BuiltInRole = keyof typeof BUILT_IN_ROLES

export const BUILT_IN_ROLE_KEYS = Object.keys(BUILT_IN_ROLES) as BuiltInRole[]

export function isBuiltInRole(value: string): value is BuiltInRole {
  return Object.hasOwn(BUILT_IN_ROLES, value)
}

/**
 * Permissions whose reach a grant can limit to part of the organization
 * tree: a grant at a unit gives these within that unit's subtree, and none
 * of its role's other permissions. Audiences, cards and money stay
 * school-wide: an audience may address the whole school.
 */
export const ORG_SCOPED_PERMISSIONS = [
  'people.read',
  'people.write',
  'people.reveal_pii',
  'portal_accounts.manage',
  'org.write',
] as const satisfies readonly Permission[]

export function isOrgScoped(permission: Permission): boolean {
  return (ORG_SCOPED_PERMISSIONS as readonly Permission[]).includes(permission)
}

/** Every grant opens the console, whatever its role. */
export const IMPLIED_PERMISSIONS: readonly Permission[] = ['console.access']

/** The permissions a custom role may list: the catalogue less the implied ones. */
export function assignablePermissions(): Permission[] {
  return PERMISSIONS.filter((permission) => !IMPLIED_PERMISSIONS.includes(permission))
}

export function isPermission(value: string): value is Permission {
  return (PERMISSIONS as readonly string[]).includes(value)
}

/**
 * The built-in roles that older code paths name in `users.role` and that
 * the demo school creates one account for each.
 */
export const ROLES = ['super_admin', 'auditor', 'operator'] as const

export type Role = (typeof ROLES)[number]

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value)
}

/** True when the built-in role grants the permission. Unknown roles grant nothing. */
export function roleGrants(role: string, permission: Permission): boolean {
  return isBuiltInRole(role) && (BUILT_IN_ROLES[role] as readonly Permission[]).includes(permission)
}

/** Every console account requires a TOTP second factor, whatever its roles. */
export function roleRequiresTotp(role: string): boolean {
  return role.length > 0
}
