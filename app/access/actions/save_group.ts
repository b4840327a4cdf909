import db from '@adonisjs/lucid/services/db'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import Audience from '#identity/models/audience'
import AccessZone from '#access/models/access_zone'
import AccessGroup from '#access/models/access_group'
import { accessWindows } from '#access/services/access_rules'

export interface SaveGroupInput {
  /** The group to change; absent to create one. */
  group?: string | null
  name: string
  /** The audience's public id. */
  audience: string
  /** Weekly windows ({ days, from, to }); checked by accessWindows. */
  windows: unknown
  /** Public ids of the zones it grants (with the zones inside them). */
  zones: string[]
  enabled: boolean
  description?: string | null
}

export type SaveGroupError =
  | 'not_found'
  | 'audience_unknown'
  | 'zones_required'
  | 'zone_unknown'
  | 'windows_invalid'
  | 'windows_required'

/** Creates or changes an access group: its audience, windows and zones. */
export class SaveGroup {
  async handle(
    input: SaveGroupInput,
    actor: AuditActor
  ): Promise<Result<AccessGroup, SaveGroupError>> {
    const windows = accessWindows(input.windows)
    if (!windows.ok) return fail('windows_invalid', windows.details)
    if (windows.value.length === 0) return fail('windows_required')
    const zoneIds = [...new Set(input.zones.map((zone) => zone.toUpperCase()))]
    if (zoneIds.length === 0) return fail('zones_required')
    return db.transaction(async (trx) => {
      const existing = input.group
        ? await AccessGroup.query({ client: trx })
            .where('public_id', input.group.toUpperCase())
            .preload('zones')
            .preload('audience')
            .first()
        : null
      if (input.group && !existing) return fail('not_found')
      const audience = await Audience.query({ client: trx })
        .where('public_id', input.audience.toUpperCase())
        .first()
      // An archived audience stays on a group that has it, but is chosen for nothing new.
      if (!audience || (audience.isArchived && existing?.audienceId !== audience.id)) {
        return fail('audience_unknown')
      }
      const zones = await AccessZone.query({ client: trx }).whereIn('public_id', zoneIds)
      if (zones.length !== zoneIds.length) return fail('zone_unknown')

      const before = existing
        ? {
            name: existing.name,
            audience: existing.audience.publicId,
            windows: existing.windows,
            zones: existing.zones.map((zone) => zone.publicId).sort(),
            enabled: existing.enabled,
            description: existing.description,
          }
        : null
      const group = existing ?? new AccessGroup()
      group.useTransaction(trx)
      group.merge({
        name: input.name.trim(),
        audienceId: audience.id,
        windows: windows.value,
        enabled: input.enabled,
        description: input.description?.trim() || null,
      })
      await group.save()
      await group.related('zones').sync(zones.map((zone) => zone.id))
      await recordAudit(
        actor,
        {
          action: existing ? 'access.group_updated' : 'access.group_created',
          subjectType: 'access_group',
          subjectId: group.publicId,
          before,
          after: {
            name: group.name,
            audience: audience.publicId,
            windows: group.windows,
            zones: zones.map((zone) => zone.publicId).sort(),
            enabled: group.enabled,
            description: group.description,
          },
        },
        trx
      )
      return ok(group)
    })
  }
}
