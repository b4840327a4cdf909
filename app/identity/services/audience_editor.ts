import { IDENTITY_TYPES, PERSON_STATUSES } from '#identity/models/person'
import { flattenOrgTree, loadOrgTree } from '#identity/services/org_tree'
import {
  unknownPersonNumbers,
  validateAudienceRules,
  type AudienceRuleIssue,
  type AudienceRules,
} from '#identity/services/audience_rules'
import { resolveAudience } from '#identity/services/audience_resolver'
import type { AudienceFormValues, ReadEditor } from '#identity/validators/audience'

/** What a count preview tells the person editing an audience. */
export interface AudiencePreview {
  /** Null when the rules have problems: see `issues`. */
  count: number | null
  rules: AudienceRules | null
  issues: AudienceRuleIssue[]
  /** Listed person numbers not in the registry: they join when they are registered. */
  unknownInclude: string[]
  unknownExclude: string[]
}

/** Validates what the editor sent and counts the people it selects. */
export async function previewAudience(read: ReadEditor): Promise<AudiencePreview> {
  const none = { count: null, rules: null, unknownInclude: [], unknownExclude: [] }
  if (!read.rules) return { ...none, issues: read.issues }
  const validated = await validateAudienceRules(read.rules)
  if (!validated.ok) {
    return { ...none, issues: (validated.details?.issues ?? []) as AudienceRuleIssue[] }
  }
  const rules = validated.value
  const [count, unknownInclude, unknownExclude] = await Promise.all([
    resolveAudience(rules).count(),
    unknownPersonNumbers(rules.include),
    unknownPersonNumbers(rules.exclude),
  ])
  return { count, rules, issues: [], unknownInclude, unknownExclude }
}

export interface AudienceEditorOptions {
  /** Messages by rule kind, from `translateAudienceIssues`. */
  issues?: Partial<Record<string, string[]>>
  preview?: AudiencePreview | null
  /** The JSON endpoint the live preview posts to. */
  previewUrl?: string
}

/**
 * Everything components/audience_editor.edge draws: the choices with what
 * is ticked, the org tree with head counts, messages and the last preview.
 * Modules that embed the editor in their own forms render it with this.
 */
export async function audienceEditorView(
  values: AudienceFormValues,
  options: AudienceEditorOptions = {}
) {
  const units = flattenOrgTree(await loadOrgTree())
  const chosen = new Set(values.units)
  const subtree = new Set(values.unit_subtree)
  const preview = options.preview ?? null
  return {
    values,
    identityTypes: IDENTITY_TYPES.map((value) => ({
      value,
      checked: values.identity_types.includes(value),
    })),
    statuses: PERSON_STATUSES.map((value) => ({ value, checked: values.statuses.includes(value) })),
    units: units.map(({ unit, totalCount }) => ({
      publicId: unit.publicId,
      name: unit.name,
      depth: unit.depth,
      total: totalCount,
      disabled: unit.disabledAt !== null,
      checked: chosen.has(unit.publicId) || subtree.has(unit.publicId),
      subtree: subtree.has(unit.publicId),
    })),
    issues: options.issues ?? {},
    preview: preview && {
      count: preview.count,
      unknownInclude: preview.unknownInclude.length,
      unknownExclude: preview.unknownExclude.length,
      unknownSample: [...preview.unknownInclude, ...preview.unknownExclude].slice(0, 10),
    },
    previewUrl: options.previewUrl ?? '/console/audiences/preview',
  }
}
