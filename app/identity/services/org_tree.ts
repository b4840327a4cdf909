import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import OrgUnit, { type OrgUnitKind } from '#identity/models/org_unit'

export interface NewOrgUnit {
  kind: OrgUnitKind
  code: string
  name: string
  sortOrder?: number
}

/**
 * Inserts a unit under its parent (null for the root) and sets its
 * materialized path and depth. The path ends with the unit's own id, which
 * only exists after the insert, hence the second write.
 */
export async function insertOrgUnit(
  trx: TransactionClientContract,
  parent: OrgUnit | null,
  attributes: NewOrgUnit
): Promise<OrgUnit> {
  const unit = new OrgUnit()
  unit.useTransaction(trx)
  unit.merge({
    ...attributes,
    sortOrder: attributes.sortOrder ?? 0,
    parentId: parent?.id ?? null,
    depth: parent ? parent.depth + 1 : 0,
    path: '',
  })
  await unit.save()
  unit.path = `${parent ? parent.path : '/'}${unit.id}/`
  await unit.save()
  return unit
}

/** A query for the ids of a unit and every unit below it. */
export function subtreeIds(unit: Pick<OrgUnit, 'path'>) {
  // Paths hold only digits and slashes, so the prefix needs no LIKE escaping.
  return db.from('org_units').select('id').where('path', 'like', `${unit.path}%`)
}

/** One node of the tree as the console shows it. */
export interface OrgTreeNode {
  unit: OrgUnit
  /** People attached to this unit itself. */
  directCount: number
  /** People in this unit and everything below it. */
  totalCount: number
  children: OrgTreeNode[]
}

/**
 * The whole organization tree, siblings in their sort order, with head
 * counts. Two queries whatever the size of the tree: the units and a
 * grouped count of people.
 */
export async function loadOrgTree(): Promise<OrgTreeNode[]> {
  const units = await OrgUnit.query().orderBy('depth').orderBy('sort_order').orderBy('id')
  const counts = await db
    .from('people')
    .select('org_unit_id')
    .count('* as total')
    .groupBy('org_unit_id')
  const direct = new Map<number, number>(
    counts.map((row) => [Number(row.org_unit_id), Number(row.total)])
  )

  const nodes = new Map<number, OrgTreeNode>()
  const roots: OrgTreeNode[] = []
  for (const unit of units) {
    const count = direct.get(unit.id) ?? 0
    const node: OrgTreeNode = { unit, directCount: count, totalCount: count, children: [] }
    nodes.set(unit.id, node)
    const parent = unit.parentId === null ? undefined : nodes.get(unit.parentId)
    if (parent) parent.children.push(node)
    else roots.push(node)
  }
  // Units come shallowest first, so adding each to its parent deepest first
  // carries every count up to the root.
  for (const unit of [...units].reverse()) {
    if (unit.parentId === null) continue
    const parent = nodes.get(unit.parentId)
    if (parent) parent.totalCount += nodes.get(unit.id)!.totalCount
  }
  return roots
}

/** The tree flattened in display order, each unit with its depth: for select boxes. */
export function flattenOrgTree(roots: OrgTreeNode[]): OrgTreeNode[] {
  const flat: OrgTreeNode[] = []
  const visit = (node: OrgTreeNode) => {
    flat.push(node)
    node.children.forEach(visit)
  }
  roots.forEach(visit)
  return flat
}

/** The unit's ancestors, root first, followed by the unit itself. */
export async function orgUnitLineage(unit: OrgUnit): Promise<OrgUnit[]> {
  const ancestorIds = unit.ancestorIds()
  if (ancestorIds.length === 0) return [unit]
  const ancestors = await OrgUnit.query().whereIn('id', ancestorIds).orderBy('depth')
  return [...ancestors, unit]
}
