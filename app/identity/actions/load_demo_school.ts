import db from '@adonisjs/lucid/services/db'
import School from '#appliance/models/school'
import { forgetSchool } from '#appliance/services/school_settings'
import User from '#identity/models/user'
import type OrgUnit from '#identity/models/org_unit'
import { ORG_UNIT_KINDS, type OrgUnitKind } from '#identity/models/org_unit'
import Person, { IDENTITY_TYPES, type IdentityType } from '#identity/models/person'
import { insertOrgUnit } from '#identity/services/org_tree'
import { planDemoSchool, type DemoPerson } from '#identity/services/demo_school'
import { passwordProblems } from '#identity/services/password_policy'
import { recordAudit, SYSTEM_ACTOR, type AuditActor } from '#core/services/audit'
import { ROLES, type Role } from '#core/services/permissions'
import { fail, ok, type Result } from '#core/services/result'

/** The school created when the demo runs before the first-run setup. */
export const DEMO_SCHOOL = {
  name: '华南示范大学',
  code: 'SCMU',
  timeZone: 'Asia/Shanghai',
  defaultLocale: 'zh-CN',
} as const

/** The largest demo: enough for trying searches and pages at scale, still quick to load. */
export const DEMO_MAX_PEOPLE = 20000

/** Known on purpose: the demo is for trying Quad out, not for real data. */
export const DEMO_PASSWORD = 'Quad-demo-2026'

/** One console account per role; a new role without a demo account fails to compile. */
export const DEMO_ACCOUNTS: Readonly<Record<Role, string>> = {
  super_admin: 'demo-admin',
  auditor: 'demo-auditor',
  operator: 'demo-operator',
}

const DISPLAY_NAMES: Readonly<Record<Role, string>> = {
  super_admin: '演示超级管理员',
  auditor: '演示审计员',
  operator: '演示运维员',
}

export interface LoadDemoOptions {
  people: number
  seed: number
  /** People written per transaction (and per audit entry). */
  batchSize?: number
  onProgress?: (progress: DemoProgress) => void
}

export type DemoProgress =
  | { stage: 'org'; units: number }
  | { stage: 'people'; done: number; total: number }
  | { stage: 'admins'; created: number }

export interface DemoAccount {
  username: string
  role: Role
  /** False when the account, or for super admins any super admin, existed already. */
  created: boolean
}

export interface DemoSummary {
  school: { name: string; code: string; created: boolean }
  unitsByKind: Record<OrgUnitKind, number>
  peopleByType: Record<IdentityType, number>
  accounts: DemoAccount[]
  password: string
}

export type LoadDemoError = 'registry_not_empty'

function tally<K extends string>(keys: readonly K[], values: K[]): Record<K, number> {
  const counts = Object.fromEntries(keys.map((key) => [key, 0])) as Record<K, number>
  for (const value of values) counts[value] += 1
  return counts
}

/**
 * Loads the demo school into an empty people registry: the school itself if
 * setup has not run, an org tree, a few hundred people and a console account
 * per role whose TOTP factor is enrolled at first sign-in. The tree, each
 * batch of people and the accounts are one transaction each, with one audit
 * entry summing up what that transaction wrote. Refuses when any org unit
 * or person exists, so demo data never mixes with a school's real registry.
 */
export class LoadDemoSchool {
  async handle(
    options: LoadDemoOptions,
    actor: AuditActor = SYSTEM_ACTOR
  ): Promise<Result<DemoSummary, LoadDemoError>> {
    if (
      !Number.isInteger(options.people) ||
      options.people < 1 ||
      options.people > DEMO_MAX_PEOPLE
    ) {
      throw new RangeError(`people must be a whole number from 1 to ${DEMO_MAX_PEOPLE}`)
    }
    const batchSize = options.batchSize ?? 200
    const tree = await this.loadTree(options, actor)
    forgetSchool()
    if (!tree.ok) return tree
    const { school, schoolCreated, unitsByCode, plan } = tree.value
    options.onProgress?.({ stage: 'org', units: plan.units.length })

    for (let start = 0; start < plan.people.length; start += batchSize) {
      const batch = plan.people.slice(start, start + batchSize)
      await this.loadPeople(batch, unitsByCode, start / batchSize + 1, options.seed, actor)
      options.onProgress?.({
        stage: 'people',
        done: start + batch.length,
        total: plan.people.length,
      })
    }

    const accounts = await this.createAccounts(actor)
    options.onProgress?.({
      stage: 'admins',
      created: accounts.filter((account) => account.created).length,
    })

    return ok({
      school: { name: school.name, code: school.code, created: schoolCreated },
      unitsByKind: tally(
        ORG_UNIT_KINDS,
        plan.units.map((unit) => unit.kind)
      ),
      peopleByType: tally(
        IDENTITY_TYPES,
        plan.people.map((person) => person.identityType)
      ),
      accounts,
      password: DEMO_PASSWORD,
    })
  }

  private loadTree(options: LoadDemoOptions, actor: AuditActor) {
    return db.transaction(async (trx) => {
      const units = await trx.from('org_units').count('* as total').first()
      const people = await trx.from('people').count('* as total').first()
      if (Number(units?.total) > 0 || Number(people?.total) > 0) {
        return fail('registry_not_empty', {
          orgUnits: Number(units?.total),
          people: Number(people?.total),
        })
      }

      let school = await School.query({ client: trx }).orderBy('id').first()
      const schoolCreated = school === null
      if (!school) {
        school = await School.create({ id: 1, ...DEMO_SCHOOL }, { client: trx })
        await recordAudit(
          actor,
          {
            action: 'appliance.demo_school_created',
            subjectType: 'school',
            subjectId: school.code,
            after: DEMO_SCHOOL,
          },
          trx
        )
      }

      const plan = planDemoSchool({
        people: options.people,
        seed: options.seed,
        school: { code: school.code, name: school.name },
      })
      const unitsByCode = new Map<string, OrgUnit>()
      for (const planned of plan.units) {
        const parent = planned.parentCode === null ? null : unitsByCode.get(planned.parentCode)!
        const unit = await insertOrgUnit(trx, parent, {
          kind: planned.kind,
          code: planned.code,
          name: planned.name,
          sortOrder: planned.sortOrder,
        })
        unitsByCode.set(unit.code, unit)
      }
      await recordAudit(
        actor,
        {
          action: 'identity.demo_org_loaded',
          subjectType: 'org_unit',
          subjectId: plan.units[0].code,
          meta: {
            seed: options.seed,
            units: plan.units.length,
            byKind: tally(
              ORG_UNIT_KINDS,
              plan.units.map((unit) => unit.kind)
            ),
          },
        },
        trx
      )
      return ok({ school, schoolCreated, unitsByCode, plan })
    })
  }

  private loadPeople(
    batch: DemoPerson[],
    units: Map<string, OrgUnit>,
    number: number,
    seed: number,
    actor: AuditActor
  ) {
    return db.transaction(async (trx) => {
      await Person.createMany(
        batch.map(({ unitCode, ...person }) => ({
          ...person,
          orgUnitId: units.get(unitCode)!.id,
        })),
        { client: trx }
      )
      await recordAudit(
        actor,
        {
          action: 'identity.demo_people_loaded',
          subjectType: 'person',
          meta: {
            seed,
            batch: number,
            count: batch.length,
            first: batch[0].personNo,
            last: batch[batch.length - 1].personNo,
            byType: tally(
              IDENTITY_TYPES,
              batch.map((person) => person.identityType)
            ),
          },
        },
        trx
      )
    })
  }

  /**
   * One account per role. An existing super admin (from the setup wizard)
   * is kept and no demo super admin is added beside it: an extra super admin
   * with a published password would be a way in.
   */
  private createAccounts(actor: AuditActor): Promise<DemoAccount[]> {
    return db.transaction(async (trx) => {
      const accounts: DemoAccount[] = []
      const created: User[] = []
      for (const role of ROLES) {
        const username = DEMO_ACCOUNTS[role]
        if (passwordProblems(DEMO_PASSWORD, username).length > 0) {
          throw new Error(`The demo password does not meet the password policy for ${username}`)
        }
        const taken = await User.query({ client: trx }).where('username', username).first()
        const superAdmin =
          role === 'super_admin'
            ? await User.query({ client: trx }).where('role', 'super_admin').first()
            : null
        if (taken || superAdmin) {
          accounts.push({ username: superAdmin?.username ?? username, role, created: false })
          continue
        }
        const user = await User.create(
          {
            username,
            displayName: DISPLAY_NAMES[role],
            password: DEMO_PASSWORD,
            role,
            totpSecret: null,
            totpConfirmedAt: null,
          },
          { client: trx }
        )
        created.push(user)
        accounts.push({ username, role, created: true })
      }
      if (created.length > 0) {
        await recordAudit(
          actor,
          {
            action: 'identity.demo_admins_created',
            subjectType: 'user',
            after: created.map((user) => ({
              publicId: user.publicId,
              username: user.username,
              role: user.role,
            })),
          },
          trx
        )
      }
      return accounts
    })
  }
}
