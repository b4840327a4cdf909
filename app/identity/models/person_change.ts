import { column } from '@adonisjs/lucid/orm'
import { RecordChange } from '#identity/models/record_change'

export type PersonChangeKind = 'created' | 'updated' | 'status_changed'

/** One entry of a person's history. */
export default class PersonChange extends RecordChange {
  static table = 'person_changes'

  @column()
  declare personId: number

  declare kind: PersonChangeKind
}
