import { BaseSchema } from '@adonisjs/lucid/schema'
import { DateTime } from 'luxon'
import { newPublicId } from '#core/services/ids'

/**
 * The built-in roles as they were when grants arrived, with their names.
 * Written out here, not imported, so that this migration does the same
 * thing whatever later releases change; roles added later are inserted
 * when first needed (ensureBuiltInRoles).
 */
const BUILT_IN = [
  { key: 'super_admin', zh: '超级管理员', en: 'Super admin' },
  { key: 'card_office', zh: '卡务中心', en: 'Card office' },
  { key: 'finance', zh: '财务处', en: 'Finance office' },
  { key: 'enrollment_office', zh: '招生迎新办', en: 'Enrollment office' },
  { key: 'messaging_officer', zh: '消息发布员', en: 'Messaging officer' },
  { key: 'auditor', zh: '安全审计员', en: 'Security auditor' },
  { key: 'operator', zh: '运维管理员', en: 'Operations admin' },
]

/**
 * Seeds the built-in roles and turns each existing account's `role` into
 * a whole-school grant of that role, so that nobody loses access.
 */
export default class extends BaseSchema {
  async up() {
    this.defer(async (client) => {
      const now = DateTime.utc().toFormat(client.dialect.dateTimeFormat)
      for (const role of BUILT_IN) {
        const existing = await client.from('roles').where('key', role.key).first()
        if (existing) continue
        await client.table('roles').insert({
          public_id: newPublicId(),
          key: role.key,
          name_zh: role.zh,
          name_en: role.en,
          built_in: true,
          permissions: null,
          created_at: now,
          updated_at: now,
        })
      }
      const roles = await client.from('roles').select('id', 'key')
      const roleIds = new Map(roles.map((row) => [row.key as string, Number(row.id)]))
      const users = await client.from('users').select('id', 'role')
      for (const user of users) {
        const roleId = roleIds.get(user.role)
        if (roleId === undefined) continue
        const held = await client
          .from('admin_grants')
          .where({ user_id: user.id, role_id: roleId })
          .whereNull('org_unit_id')
          .first()
        if (held) continue
        await client.table('admin_grants').insert({
          public_id: newPublicId(),
          user_id: user.id,
          role_id: roleId,
          org_unit_id: null,
          granted_by: null,
          created_at: now,
        })
      }
    })
  }

  async down() {
    this.defer(async (client) => {
      await client.from('admin_grants').delete()
      await client.from('roles').where('built_in', true).delete()
    })
  }
}
