import db from '@adonisjs/lucid/services/db'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import AccessZone from '#access/models/access_zone'

export interface SaveZoneInput {
  /** The zone to change; absent to create one. */
  zone?: string | null
  code: string
  name: string
  /** The public id of the zone it lies in, or null. */
  parent?: string | null
  description?: string | null
}

export type SaveZoneError = 'not_found' | 'code_taken' | 'parent_unknown' | 'parent_cycle'

function view(zone: AccessZone, parent: string | null) {
  return { code: zone.code, name: zone.name, parent, description: zone.description }
}

/** Creates or changes a zone; a zone cannot lie inside itself or a zone inside it. */
export class SaveZone {
  async handle(
    input: SaveZoneInput,
    actor: AuditActor
  ): Promise<Result<AccessZone, SaveZoneError>> {
    return db.transaction(async (trx) => {
      const existing = input.zone
        ? await AccessZone.query({ client: trx })
            .where('public_id', input.zone.toUpperCase())
            .first()
        : null
      if (input.zone && !existing) return fail('not_found')
      const code = input.code.trim().toUpperCase()
      const clash = await AccessZone.query({ client: trx }).where('code', code).first()
      if (clash && clash.id !== existing?.id) return fail('code_taken')
      let parent: AccessZone | null = null
      if (input.parent) {
        parent = await AccessZone.query({ client: trx })
          .where('public_id', input.parent.toUpperCase())
          .first()
        if (!parent) return fail('parent_unknown')
        if (existing) {
          const zones = await trx.from('access_zones').select('id', 'parent_id')
          const parents = new Map(zones.map((zone) => [Number(zone.id), zone.parent_id]))
          let current: number | null = parent.id
          const seen = new Set<number>()
          while (current !== null && !seen.has(current)) {
            if (current === existing.id) return fail('parent_cycle')
            seen.add(current)
            const next = parents.get(current)
            current = next === null || next === undefined ? null : Number(next)
          }
        }
      }
      const parentOf = async (id: number | null) => {
        if (id === null) return null
        const row = await AccessZone.query({ client: trx }).where('id', id).first()
        return row?.publicId ?? null
      }
      const before = existing ? view(existing, await parentOf(existing.parentId)) : null
      const zone = existing ?? new AccessZone()
      zone.useTransaction(trx)
      zone.merge({
        code,
        name: input.name.trim(),
        parentId: parent?.id ?? null,
        description: input.description?.trim() || null,
      })
      await zone.save()
      await recordAudit(
        actor,
        {
          action: existing ? 'access.zone_updated' : 'access.zone_created',
          subjectType: 'access_zone',
          subjectId: zone.publicId,
          before,
          after: view(zone, parent?.publicId ?? null),
        },
        trx
      )
      return ok(zone)
    })
  }
}
