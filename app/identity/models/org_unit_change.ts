import { column } from '@adonisjs/lucid/orm'
import { RecordChange } from '#identity/models/record_change'

export type OrgUnitChangeKind = 'created' | 'renamed' | 'moved' | 'disabled' | 'enabled'

/** One entry of an org unit's history. */
export default class OrgUnitChange extends RecordChange {
  static table = 'org_unit_changes'

  @column()
  declare orgUnitId: number

  declare kind: OrgUnitChangeKind
}
