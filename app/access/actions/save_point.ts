import db from '@adonisjs/lucid/services/db'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { fail, ok, type Result } from '#core/services/result'
import AccessZone from '#access/models/access_zone'
import AccessPoint, { type PointKind } from '#access/models/access_point'
import type { PointDirection } from '#access/services/access_decision'

export interface SavePointInput {
  /** The point to change; absent to create one. */
  point?: string | null
  code: string
  name: string
  /** The zone's public id. */
  zone: string
  kind: PointKind
  direction: PointDirection
  /** The public id of the terminal that controls it, or null. */
  terminal?: string | null
  enabled: boolean
}

export type SavePointError = 'not_found' | 'code_taken' | 'zone_unknown' | 'terminal_unknown'

/** Creates or changes an access point, and links it to its terminal. */
export class SavePoint {
  async handle(
    input: SavePointInput,
    actor: AuditActor
  ): Promise<Result<AccessPoint, SavePointError>> {
    return db.transaction(async (trx) => {
      const existing = input.point
        ? await AccessPoint.query({ client: trx })
            .where('public_id', input.point.toUpperCase())
            .first()
        : null
      if (input.point && !existing) return fail('not_found')
      const code = input.code.trim().toUpperCase()
      const clash = await AccessPoint.query({ client: trx }).where('code', code).first()
      if (clash && clash.id !== existing?.id) return fail('code_taken')
      const zone = await AccessZone.query({ client: trx })
        .where('public_id', input.zone.toUpperCase())
        .first()
      if (!zone) return fail('zone_unknown')
      let terminalId: number | null = null
      if (input.terminal) {
        const terminal = await trx
          .from('terminals')
          .where('public_id', input.terminal.toUpperCase())
          .select('id')
          .first()
        if (!terminal) return fail('terminal_unknown')
        terminalId = Number(terminal.id)
      }
      const view = async (point: AccessPoint) => {
        const terminal = point.terminalId
          ? await trx.from('terminals').where('id', point.terminalId).select('public_id').first()
          : null
        const pointZone = await trx
          .from('access_zones')
          .where('id', point.zoneId)
          .select('public_id')
          .first()
        return {
          code: point.code,
          name: point.name,
          zone: pointZone?.public_id ?? null,
          kind: point.kind,
          direction: point.direction,
          terminal: terminal?.public_id ?? null,
          enabled: point.enabled,
        }
      }
      const before = existing ? await view(existing) : null
      const point = existing ?? new AccessPoint()
      point.useTransaction(trx)
      point.merge({
        code,
        name: input.name.trim(),
        zoneId: zone.id,
        kind: input.kind,
        direction: input.direction,
        terminalId,
        enabled: input.enabled,
      })
      await point.save()
      await recordAudit(
        actor,
        {
          action: existing ? 'access.point_updated' : 'access.point_created',
          subjectType: 'access_point',
          subjectId: point.publicId,
          before,
          after: await view(point),
        },
        trx
      )
      return ok(point)
    })
  }
}
