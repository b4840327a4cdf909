import type { RecordChange } from '#identity/models/record_change'

type Translate = (key: string, data?: Record<string, unknown>, fallback?: string) => string

/** Fields whose values are codes with a translated label. */
const CODED: Record<string, string> = {
  status: 'identity.statuses.',
  gender: 'identity.genders.',
  identityType: 'identity.identity_types.',
  idDocType: 'identity.id_doc_types.',
  kind: 'identity.org.kinds.',
}

function show(t: Translate, field: string, value: unknown): string {
  if (value === null || value === undefined || value === '') return '—'
  if (typeof value === 'boolean') return t(value ? 'identity.history.yes' : 'identity.history.no')
  if (Array.isArray(value)) return value.length ? value.join('、') : '—'
  const prefix = CODED[field]
  if (prefix) return t(`${prefix}${String(value)}`, {}, String(value))
  return String(value)
}

/** One history entry as a page shows it, labels in the reader's language. */
export function presentChange(change: RecordChange, t: Translate) {
  return {
    change,
    kindLabel: t(`identity.history.kinds.${change.kind}`, {}, change.kind),
    actorLabel:
      change.actorName ??
      t(`identity.history.actor_types.${change.actorType}`, {}, change.actorType),
    fields: Object.entries(change.changes).map(([field, [before, after]]) => ({
      label: t(`identity.history.fields.${field}`, {}, field),
      before: show(t, field, before),
      after: show(t, field, after),
    })),
  }
}
