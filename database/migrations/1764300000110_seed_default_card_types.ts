import { BaseSchema } from '@adonisjs/lucid/schema'
import { newPublicId } from '#core/services/ids'

/**
 * The card types every school starts with, and the student → alumni upgrade
 * at graduation. A type that already exists (by code) is left as it is, so
 * running this on a database that has them changes nothing. The data is
 * written out here, not imported, so that this migration keeps doing what it
 * did when the application's defaults change later.
 */
const FIELDS = { name: true, photo: true, number: true, org: true, type: true, validity: true }

const DEFAULTS = [
  {
    code: 'student',
    nameZh: '学生卡',
    nameEn: 'Student card',
    identityTypes: ['undergraduate', 'postgraduate'],
    validity: { kind: 'graduation', graceDays: 90 },
    colors: { background: '#1F4E9E', text: '#FFFFFF', accent: '#F2C94C' },
  },
  {
    code: 'teacher',
    nameZh: '教师卡',
    nameEn: 'Teacher card',
    identityTypes: ['teacher'],
    validity: { kind: 'none' },
    colors: { background: '#8B1E2D', text: '#FFFFFF', accent: '#F5D0A9' },
  },
  {
    code: 'staff',
    nameZh: '教职工卡',
    nameEn: 'Staff card',
    identityTypes: ['staff'],
    validity: { kind: 'none' },
    colors: { background: '#1B6B4A', text: '#FFFFFF', accent: '#C6F6D5' },
  },
  {
    code: 'alumni',
    nameZh: '校友卡',
    nameEn: 'Alumni card',
    identityTypes: ['alumni'],
    validity: { kind: 'none' },
    colors: { background: '#5B3E96', text: '#FFFFFF', accent: '#E9D8FD' },
  },
  {
    code: 'temporary',
    nameZh: '临时卡',
    nameEn: 'Temporary card',
    identityTypes: ['temporary'],
    validity: { kind: 'window', maxDays: 366 },
    colors: { background: '#B5651D', text: '#FFFFFF', accent: '#FEEBC8' },
  },
  {
    code: 'visitor',
    nameZh: '访客卡',
    nameEn: 'Visitor card',
    identityTypes: ['visitor'],
    validity: { kind: 'window', maxDays: 30 },
    colors: { background: '#4A5568', text: '#FFFFFF', accent: '#E2E8F0' },
  },
]

export default class extends BaseSchema {
  async up() {
    this.defer(async (db) => {
      const now = new Date()
      const time = (client: typeof db) =>
        client.dialect.name === 'postgres' ? now : now.toISOString().slice(0, 19).replace('T', ' ')
      for (const [index, type] of DEFAULTS.entries()) {
        const existing = await db.from('card_types').where('code', type.code).first()
        if (existing) continue
        await db.table('card_types').insert({
          public_id: newPublicId(),
          code: type.code,
          name_zh: type.nameZh,
          name_en: type.nameEn,
          identity_types: JSON.stringify(type.identityTypes),
          audience_id: null,
          validity: JSON.stringify(type.validity),
          face: JSON.stringify({
            title: '',
            colors: type.colors,
            fields: FIELDS,
            background: null,
            logo: null,
          }),
          is_temporary: type.validity.kind === 'window',
          enabled: true,
          sort_order: (index + 1) * 10,
          created_at: time(db),
          updated_at: time(db),
        })
      }
      const student = await db.from('card_types').where('code', 'student').first()
      const alumni = await db.from('card_types').where('code', 'alumni').first()
      if (!student || !alumni) return
      const rule = await db
        .from('card_upgrade_rules')
        .where('from_type_id', student.id)
        .where('to_type_id', alumni.id)
        .where('trigger', 'graduated')
        .first()
      if (rule) return
      await db.table('card_upgrade_rules').insert({
        public_id: newPublicId(),
        from_type_id: student.id,
        to_type_id: alumni.id,
        trigger: 'graduated',
        enabled: true,
        created_at: time(db),
        updated_at: time(db),
      })
    })
  }

  async down() {
    // The defaults may have been edited and used since: nothing is removed.
  }
}
