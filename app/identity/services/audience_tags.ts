import db from '@adonisjs/lucid/services/db'
import type { AudienceTagSource } from '#identity/services/audience_rules'

/**
 * The people registry's tags (tables `tags` and `person_tags`) as the
 * source of the audience rule kind `tags`.
 */
export const registryTags: AudienceTagSource = {
  async unknownTags(tags) {
    const known = await db.from('tags').whereIn('name', tags).select('name')
    const found = new Set(known.map((row) => String(row.name)))
    return tags.filter((tag) => !found.has(tag))
  },
  peopleWithAnyTag(tags) {
    return db
      .from('person_tags')
      .join('tags', 'tags.id', 'person_tags.tag_id')
      .whereIn('tags.name', tags)
      .select('person_tags.person_id')
  },
}
