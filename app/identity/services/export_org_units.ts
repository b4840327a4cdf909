import i18nManager from '@adonisjs/i18n/services/main'
import OrgUnit, { ORG_UNIT_KINDS } from '#identity/models/org_unit'
import { scopeIncludesPath, type OrgScope } from '#identity/services/org_scope'
import { ORG_UNIT_COLUMNS, type OrgValueLabels } from '#identity/services/import_org_units'

/**
 * The org-unit spreadsheet going out: exports and the template use the
 * columns and words the importer reads, so that an export imports back
 * unchanged.
 */

function translations(key: string): string[] {
  return i18nManager.supportedLocales().map((locale) => i18nManager.locale(locale).t(key))
}

/** The words accepted for each kind and for "disabled" yes and no, in every language. */
export function orgValueLabels(): OrgValueLabels {
  return {
    kind: Object.fromEntries(
      ORG_UNIT_KINDS.map((kind) => [kind, translations(`identity.org.kinds.${kind}`)])
    ),
    yes: [...translations('imports.org.yes'), 'yes', 'y', 'true', '1', '停用', '已停用'],
    no: [...translations('imports.org.no'), 'no', 'n', 'false', '0', '启用', '启用中'],
  }
}

/** The header row in the user's language: Chinese, or the English column keys. */
export function orgUnitHeaders(locale: string): string[] {
  return ORG_UNIT_COLUMNS.map((column) =>
    locale.startsWith('zh') ? column.headers[0] : column.headers[1]
  )
}

/** The template's example rows: a school, a college under it and a class under that. */
export function orgExampleRows(locale: string): string[][] {
  const t = (key: string) => i18nManager.locale(locale).t(key)
  const zh = locale.startsWith('zh')
  const no = t('imports.org.no')
  return [
    [
      'SCMU',
      zh ? '华南示范大学' : 'South China Model University',
      t('identity.org.kinds.school'),
      '',
      '0',
      no,
    ],
    [
      'C04',
      zh ? '计算机学院' : 'School of Computing',
      t('identity.org.kinds.college'),
      'SCMU',
      '4',
      no,
    ],
    ['C04-2501', zh ? '计科2501班' : 'CS 2501', t('identity.org.kinds.class'), 'C04', '0', no],
  ]
}

/**
 * Every unit inside the scope as spreadsheet rows, each parent before its
 * children and siblings in their sort order, as the tree page lists them.
 */
export async function exportOrgUnitRows(options: {
  locale: string
  scope?: OrgScope
}): Promise<{ headers: string[]; rows: string[][] }> {
  const t = (key: string) => i18nManager.locale(options.locale).t(key)
  const units = await OrgUnit.query().orderBy('sort_order').orderBy('code')
  const byId = new Map(units.map((unit) => [unit.id, unit]))
  const children = new Map<number | null, OrgUnit[]>()
  for (const unit of units) {
    // A unit whose parent is missing would be lost below: list it at the top.
    const parent = unit.parentId !== null && byId.has(unit.parentId) ? unit.parentId : null
    children.set(parent, [...(children.get(parent) ?? []), unit])
  }
  const rows: string[][] = []
  const visit = (unit: OrgUnit) => {
    if (!options.scope || scopeIncludesPath(options.scope, unit.path)) {
      const parent = unit.parentId === null ? null : byId.get(unit.parentId)
      rows.push([
        unit.code,
        unit.name,
        t(`identity.org.kinds.${unit.kind}`),
        parent?.code ?? '',
        String(unit.sortOrder),
        t(unit.disabledAt ? 'imports.org.yes' : 'imports.org.no'),
      ])
    }
    for (const child of children.get(unit.id) ?? []) visit(child)
  }
  for (const root of children.get(null) ?? []) visit(root)
  return { headers: orgUnitHeaders(options.locale), rows }
}
