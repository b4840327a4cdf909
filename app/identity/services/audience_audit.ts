import type Audience from '#identity/models/audience'
import type { AudienceRules } from '#identity/services/audience_rules'

/**
 * An audience as its audit entries show it. The explicit lists appear as
 * counts here; the numbers that changed go in `listChanges`, so that an
 * entry stays readable when a list holds thousands of people.
 */
export function audienceAuditView(audience: Audience) {
  const { include, exclude, ...conditions } = audience.rules
  return {
    name: audience.name,
    description: audience.description,
    rules: { ...conditions, includeCount: include.length, excludeCount: exclude.length },
    archivedAt: audience.archivedAt?.toISO() ?? null,
  }
}

function difference(from: string[], to: string[]) {
  const present = new Set(from)
  return to.filter((number) => !present.has(number))
}

/** The person numbers added to and removed from the explicit lists. */
export function listChanges(before: AudienceRules | null, after: AudienceRules) {
  return {
    includeAdded: difference(before?.include ?? [], after.include),
    includeRemoved: difference(after.include, before?.include ?? []),
    excludeAdded: difference(before?.exclude ?? [], after.exclude),
    excludeRemoved: difference(after.exclude, before?.exclude ?? []),
  }
}
