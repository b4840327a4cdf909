import type { HttpContext } from '@adonisjs/core/http'
import { CreateOrgUnit } from '#identity/actions/create_org_unit'
import { MoveOrgUnit } from '#identity/actions/move_org_unit'
import { RenameOrgUnit } from '#identity/actions/rename_org_unit'
import OrgUnit, { ORG_UNIT_KINDS, type OrgUnitKind } from '#identity/models/org_unit'
import { checkOrgUnitName } from '#identity/services/org_rules'
import { apiActor, idempotentWrite, invalid, refused } from '#identity/api/api_http'
import { orgUnitJson } from '#identity/api/presenters'
import { apiOrgUnitValidator } from '#identity/api/validators'
import type { StoredResponse } from '#identity/api/idempotency'

async function unitResponse(code: string, status: number): Promise<StoredResponse> {
  const unit = await OrgUnit.findByOrFail('code', code)
  const parent = unit.parentId ? await OrgUnit.find(unit.parentId) : null
  return { status, body: { data: orgUnitJson(unit, parent?.code ?? null) } }
}

/** The organization tree, read and written by school systems by unit code. */
export default class OrgUnitsApiController {
  /** GET /api/v1/org-units: every unit, parents before children. */
  async index() {
    const units = await OrgUnit.query().orderBy('depth').orderBy('sort_order').orderBy('code')
    const codes = new Map(units.map((unit) => [unit.id, unit.code]))
    return {
      data: units.map((unit) =>
        orgUnitJson(unit, unit.parentId ? (codes.get(unit.parentId) ?? null) : null)
      ),
    }
  }

  /**
   * PUT /api/v1/org-units/:code: creates the unit, or renames and moves an
   * existing one to match the body. A unit's kind does not change.
   */
  async upsert(ctx: HttpContext) {
    const body = await apiOrgUnitValidator.validate(ctx.request.body())
    const code = String(ctx.params.code).trim()
    const actor = apiActor(ctx)
    return idempotentWrite(ctx, ctx.request.body(), async () => {
      if (!ORG_UNIT_KINDS.includes(body.kind as OrgUnitKind)) {
        return invalid([{ field: 'kind', code: 'invalid_choice' }])
      }
      const existing = await OrgUnit.findBy('code', code)
      if (!existing) {
        const created = await new CreateOrgUnit().handle(
          {
            parent: body.parent ? { code: body.parent } : null,
            kind: body.kind as OrgUnitKind,
            code,
            name: body.name,
          },
          actor
        )
        if (!created.ok) {
          if (created.error === 'code_taken') {
            return refused(409, 'code_taken', 'Another unit has this code.')
          }
          const field = { code_format: 'code', name_length: 'name', invalid_kind: 'kind' }[
            created.error as string
          ]
          return invalid([{ field: field ?? 'parent', code: created.error }])
        }
        return unitResponse(code, 201)
      }

      if (existing.kind !== body.kind) return invalid([{ field: 'kind', code: 'kind_immutable' }])
      const name = checkOrgUnitName(body.name)
      if (!name.ok) return invalid([{ field: 'name', code: name.error }])
      // Checked up front so that a refused move does not leave a half-applied rename.
      const parent = body.parent ? await OrgUnit.findBy('code', body.parent) : null
      if (body.parent && !parent) return invalid([{ field: 'parent', code: 'parent_not_found' }])
      if (body.parent === null && existing.parentId !== null) {
        return invalid([{ field: 'parent', code: 'root_move_unsupported' }])
      }
      if (parent && parent.id !== existing.parentId) {
        const moved = await new MoveOrgUnit().handle(
          { unit: { id: existing.id }, newParent: { id: parent.id } },
          actor
        )
        if (!moved.ok) return invalid([{ field: 'parent', code: moved.error }])
      }
      if (name.value !== existing.name) {
        const renamed = await new RenameOrgUnit().handle(
          { unit: { id: existing.id }, name: name.value },
          actor
        )
        if (!renamed.ok && renamed.error !== 'unchanged') {
          return invalid([{ field: 'name', code: renamed.error }])
        }
      }
      return unitResponse(code, 200)
    })
  }
}
