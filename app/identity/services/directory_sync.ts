import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import encryption from '@adonisjs/core/services/encryption'
import logger from '@adonisjs/core/services/logger'
import i18nManager from '@adonisjs/i18n/services/main'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import { recordAudit, type AuditActor } from '#core/services/audit'
import { dbTime, describeError } from '#appliance/services/jobs'
import { currentSchool } from '#appliance/services/school_settings'
import type DirectorySource from '#identity/models/directory_source'
import DirectorySyncRun, {
  type RunPhase,
  type RunStatus,
} from '#identity/models/directory_sync_run'
import OrgUnit from '#identity/models/org_unit'
import Person, { type PersonStatus } from '#identity/models/person'
import { fieldErrorsOf, SavePerson } from '#identity/actions/save_person'
import { ChangePersonStatus } from '#identity/actions/change_person_status'
import { valueLabels } from '#identity/services/export_people'
import { canChangeStatus } from '#identity/services/person_status'
import { diffSnapshots, personSnapshot } from '#identity/services/person_history'
import {
  closeDirectory,
  openDirectory,
  searchDirectory,
  type ConnectionSettings,
} from '#identity/services/directory_client'
import {
  mapEntry,
  mappedAttributes,
  type DirectoryEntry,
  type MappedEntry,
} from '#identity/services/directory_mapping'
import {
  emptyCounts,
  emptyDiff,
  keepRow,
  type EntryError,
  type RunCounts,
  type RunDiff,
  type RunProblem,
  type VanishedOutcome,
} from '#identity/services/directory_diff'

/**
 * One directory sync run, from the LDAP search to the registry:
 *
 * 1. connect, bind and read every entry (paged);
 * 2. map each entry to a SavePerson input, refusing entries that lack a
 *    required attribute or share a person number with another entry;
 * 3. find the people linked to this source whose entries are gone;
 * 4. refuse the run (blocked) when the directory returned nothing or when
 *    more than the source's limit of its people would vanish — a broken
 *    filter or an emptied OU must not suspend a whole school;
 * 5. run every entry through SavePerson (upsert by person number) and every
 *    vanished person through ChangePersonStatus, in transactions of
 *    BATCH_SIZE entries with a savepoint per entry, so that one bad entry
 *    never aborts the others.
 *
 * A preview runs exactly the same code and rolls every batch back: what it
 * shows is what an apply would do. Only an apply (not blocked) commits,
 * links people to the source and writes the run's audit entry.
 */

/** Entries per transaction; also how often progress is stored. */
const BATCH_SIZE = 100

/** A running run whose row was not touched for this long is taken as abandoned. */
export const STALE_RUN_MS = 15 * 60_000

export interface RunProgress {
  phase: RunPhase
  done: number
  total: number
}

export interface ExecuteOptions {
  /** Called as the run moves on (the ace command prints it). */
  onProgress?: (progress: RunProgress) => void | Promise<void>
}

interface LinkRow {
  id: number
  personId: number
  entryDn: string
  vanishedAt: unknown
  vanishStatus: PersonStatus | null
  personNo: string
  name: string
  status: PersonStatus
  publicId: string
}

/** The audit actor a run writes as. */
function actorOf(run: DirectorySyncRun): AuditActor {
  return run.actor ?? { type: 'system', name: 'directory-sync' }
}

/** The connection settings of a source with its password decrypted; null when it cannot be. */
export function connectionOf(source: DirectorySource): ConnectionSettings | null {
  let password: string | null = null
  if (source.bindPassword) {
    password = encryption.decrypt<string>(source.bindPassword)
    // A password encrypted with another app key (a restored backup without its keys).
    if (typeof password !== 'string') return null
  }
  return {
    url: source.url,
    startTls: source.startTls,
    caCertificate: source.caCertificate,
    bindDn: source.bindDn,
    bindPassword: password,
    timeoutSeconds: source.timeoutSeconds,
  }
}

/** True when another apply of the same source is running and alive. */
async function anotherApplyRunning(run: DirectorySyncRun, trx: TransactionClientContract) {
  const others = await DirectorySyncRun.query({ client: trx })
    .where('source_id', run.sourceId)
    .where('mode', 'apply')
    .where('status', 'running')
    .whereNot('id', run.id)
  const alive = DateTime.now().minus({ milliseconds: STALE_RUN_MS })
  return others.some((other) => other.updatedAt > alive)
}

/**
 * Marks the run running. Its first statement writes, so that on SQLite the
 * transaction holds the write lock before it looks at other runs.
 */
async function takeRun(run: DirectorySyncRun): Promise<'taken' | 'gone' | 'busy'> {
  return db.transaction(async (trx) => {
    const moved = await trx
      .from('directory_sync_runs')
      .where('id', run.id)
      .whereIn('status', ['queued', 'running'])
      .update({ status: 'running', phase: 'connecting', done_count: 0, total_count: 0 })
    if (Number(moved) === 0) return 'gone'
    run.useTransaction(trx)
    await run.refresh()
    if (run.mode === 'apply' && (await anotherApplyRunning(run, trx))) {
      run.merge({
        status: 'failed',
        phase: null,
        problem: { code: 'busy' },
        finishedAt: DateTime.now(),
      })
      await run.save()
      return 'busy'
    }
    run.startedAt = DateTime.now()
    await run.save()
    return 'taken'
  })
}

/** Stores how far the run got (outside any batch transaction) and tells the caller. */
async function progress(run: DirectorySyncRun, options: ExecuteOptions, state: RunProgress) {
  run.merge({ phase: state.phase, doneCount: state.done, totalCount: state.total })
  // Saved even when nothing else changed: updated_at is the run's heartbeat.
  run.updatedAt = DateTime.now()
  await run.save()
  if (options.onProgress) await options.onProgress(state)
}

async function finish(
  run: DirectorySyncRun,
  status: RunStatus,
  data: { counts?: RunCounts; diff?: RunDiff | null; problem?: RunProblem | null },
  trx?: TransactionClientContract
) {
  const counts = data.counts ?? emptyCounts()
  run.merge({
    status,
    phase: 'done',
    entriesCount: counts.entries,
    createdCount: counts.created,
    updatedCount: counts.updated,
    unchangedCount: counts.unchanged,
    vanishedCount: counts.vanished,
    invalidCount: counts.invalid,
    diff: data.diff ?? null,
    problem: data.problem ?? null,
    finishedAt: DateTime.now(),
  })
  if (trx) run.useTransaction(trx)
  await run.save()
}

/** The audit entry that sums up an apply run: one per run, whatever its outcome. */
async function auditApply(
  run: DirectorySyncRun,
  source: DirectorySource,
  status: RunStatus,
  counts: RunCounts,
  problem: RunProblem | null,
  trx?: TransactionClientContract
) {
  await recordAudit(
    actorOf(run),
    {
      action: 'directory.sync_applied',
      subjectType: 'directory_source',
      subjectId: source.publicId,
      outcome: status === 'succeeded' ? 'success' : 'failure',
      meta: {
        run: run.publicId,
        source: source.name,
        trigger: run.trigger,
        status,
        counts,
        problem: problem ? { code: problem.code, params: problem.params } : null,
      },
    },
    trx
  )
}

/**
 * Runs a queued (or interrupted) run to its end and returns it. Never
 * throws for a directory that cannot be read or a broken entry: those end
 * as a failed run or an invalid row. Returns null for an unknown run.
 */
export async function executeDirectoryRun(
  publicId: string,
  options: ExecuteOptions = {}
): Promise<DirectorySyncRun | null> {
  const run = await DirectorySyncRun.query().where('public_id', publicId).preload('source').first()
  if (!run) return null
  if (!run.inProgress) return run
  const taken = await takeRun(run)
  if (taken !== 'taken') return run
  const source = run.source
  try {
    await syncRun(run, source, options)
  } catch (error) {
    const detail = describeError(error).split('\n')[0].slice(0, 300)
    logger.error(
      { run: run.publicId, source: source.publicId, err: describeError(error) },
      'directory sync run failed'
    )
    const problem: RunProblem = { code: 'unexpected', detail }
    await finish(run, 'failed', { problem })
    if (run.mode === 'apply') await auditApply(run, source, 'failed', emptyCounts(), problem)
  }
  return run
}

async function fail(run: DirectorySyncRun, source: DirectorySource, problem: RunProblem) {
  await finish(run, 'failed', { problem })
  if (run.mode === 'apply') await auditApply(run, source, 'failed', emptyCounts(), problem)
}

async function syncRun(run: DirectorySyncRun, source: DirectorySource, options: ExecuteOptions) {
  if (run.mode === 'apply' && !source.enabled) return fail(run, source, { code: 'source_disabled' })
  const settings = connectionOf(source)
  if (!settings) return fail(run, source, { code: 'password_unreadable' })

  await progress(run, options, { phase: 'connecting', done: 0, total: 0 })
  const opened = await openDirectory(settings)
  if (!opened.ok) {
    logger.warn(
      { run: run.publicId, source: source.publicId, error: opened.error },
      'directory sync could not connect'
    )
    return fail(run, source, {
      code: opened.error,
      detail: String(opened.details?.detail ?? ''),
    })
  }
  const entries: DirectoryEntry[] = []
  let searched
  try {
    searched = await searchDirectory(
      opened.value,
      {
        baseDn: source.baseDn,
        searchFilter: source.searchFilter,
        scope: source.scope,
        pageSize: source.pageSize,
        attributes: mappedAttributes(source.mapping),
      },
      async (page) => {
        entries.push(...page)
        await progress(run, options, { phase: 'reading', done: entries.length, total: 0 })
      }
    )
  } finally {
    await closeDirectory(opened.value)
  }
  if (!searched.ok)
    return fail(run, source, {
      code: searched.error,
      detail: String(searched.details?.detail ?? ''),
    })

  await compareAndWrite(run, source, entries, options)
}

/** The value of a field shown in an invalid row's message; phone numbers are never shown. */
function shownValue(field: string, entry: MappedEntry): string | undefined {
  const input = entry.input
  const values: Record<string, unknown> = {
    personNo: input.personNo,
    name: input.name,
    gender: input.gender,
    identityType: input.identityType,
    orgUnit: entry.orgUnitCode,
    email: input.email,
    enrollmentYear: input.enrollmentYear,
  }
  const value = values[field]
  return value === undefined || value === null ? undefined : String(value).slice(0, 64)
}

async function loadLinks(sourceId: number): Promise<LinkRow[]> {
  const rows = await db
    .from('directory_links')
    .join('people', 'people.id', 'directory_links.person_id')
    .where('directory_links.source_id', sourceId)
    .select(
      'directory_links.id',
      'directory_links.person_id',
      'directory_links.entry_dn',
      'directory_links.vanished_at',
      'directory_links.vanish_status',
      'people.person_no',
      'people.name',
      'people.status',
      'people.public_id'
    )
  return rows.map((row) => ({
    id: Number(row.id),
    personId: Number(row.person_id),
    entryDn: row.entry_dn,
    vanishedAt: row.vanished_at,
    vanishStatus: row.vanish_status,
    personNo: row.person_no,
    name: row.name,
    status: row.status,
    publicId: row.public_id,
  }))
}

/** The language reasons in people's history are written in: the school's. */
async function reasonTranslator() {
  const school = await currentSchool()
  const locale = school?.defaultLocale ?? 'zh-CN'
  return (key: string, params: Record<string, unknown>) =>
    i18nManager.locale(locale).t(`directory.reasons.${key}`, params)
}

function vanishedOutcome(action: DirectorySource['vanishedAction'], status: PersonStatus) {
  if (action === 'suspend' && status === 'active') return 'suspended'
  if (action === 'left' && status !== 'left' && canChangeStatus(status, 'left')) return 'left'
  return 'kept'
}

async function compareAndWrite(
  run: DirectorySyncRun,
  source: DirectorySource,
  entries: DirectoryEntry[],
  options: ExecuteOptions
) {
  const actor = actorOf(run)
  const labels = valueLabels()
  const mapped = entries.map((entry) =>
    mapEntry(entry, source.mapping, { gender: labels.gender, identityType: labels.identityType })
  )

  // Entries that share a person number: none of them is taken, since
  // nothing says which one is right.
  const holders = new Map<string, MappedEntry[]>()
  for (const entry of mapped) {
    const number = entry.input.personNo?.trim().toUpperCase()
    if (number) holders.set(number, [...(holders.get(number) ?? []), entry])
  }
  const duplicated = new Set<MappedEntry>()
  for (const [number, group] of holders) {
    if (group.length < 2) continue
    for (const entry of group) {
      duplicated.add(entry)
      entry.problems.push({
        field: 'personNo',
        code: 'duplicate_person_no',
        params: { value: number, count: String(group.length) },
      })
    }
  }

  // Everyone the directory still lists, valid entry or not, has not vanished.
  const seenNumbers = new Set(holders.keys())
  const seenDns = new Set(entries.map((entry) => entry.dn.toLowerCase()))
  const links = await loadLinks(source.id)
  const linkByPerson = new Map(links.map((link) => [link.personId, link]))
  const present = links.filter((link) => !link.vanishedAt)
  const vanished = present.filter(
    (link) =>
      !seenNumbers.has(link.personNo.toUpperCase()) && !seenDns.has(link.entryDn.toLowerCase())
  )

  let problem: RunProblem | null = null
  if (entries.length === 0) problem = { code: 'empty_directory', params: { total: present.length } }
  else if (present.length > 0 && vanished.length * 100 > source.vanishLimitPercent * present.length)
    problem = {
      code: 'too_many_vanished',
      params: {
        count: vanished.length,
        total: present.length,
        percent: Math.round((vanished.length * 1000) / present.length) / 10,
        limit: source.vanishLimitPercent,
      },
    }
  const writes = run.mode === 'apply' && problem === null

  const counts = emptyCounts()
  counts.entries = entries.length
  const diff = emptyDiff()
  const allUnits = await OrgUnit.all()
  const units = new Map(allUnits.map((unit) => [unit.id, unit]))
  const reason = await reasonTranslator()
  const save = new SavePerson()
  const changeStatus = new ChangePersonStatus()
  const total = mapped.length + vanished.length
  let done = 0

  const invalid = (entry: MappedEntry, errors: EntryError[]) => {
    counts.invalid++
    keepRow(diff, 'invalid', {
      dn: entry.dn,
      personNo: entry.input.personNo?.trim().toUpperCase() ?? null,
      errors,
    })
  }

  /** One entry inside the batch transaction, in its own savepoint. */
  const applyEntry = async (trx: TransactionClientContract, entry: MappedEntry) => {
    if (entry.problems.length) {
      invalid(
        entry,
        entry.problems.map((found) => ({
          field: found.field,
          code: found.code,
          params: found.params,
        }))
      )
      return
    }
    const savepoint = await trx.transaction()
    try {
      const number = entry.input.personNo!.trim().toUpperCase()
      const existing = await Person.query({ client: savepoint }).where('person_no', number).first()
      const existingUnit = existing ? units.get(existing.orgUnitId) : undefined
      const before = existing && existingUnit ? personSnapshot(existing, existingUnit, []) : null
      const link = existing ? linkByPerson.get(existing.id) : undefined

      const saved = await save.handle(entry.input, { mode: 'upsert' }, actor, savepoint)
      if (!saved.ok) {
        await savepoint.rollback()
        invalid(
          entry,
          fieldErrorsOf(saved).map((error) => {
            const value = shownValue(error.field, entry)
            return {
              field: error.field,
              code: error.code,
              params: value === undefined ? undefined : { value },
            }
          })
        )
        return
      }
      const person = saved.value.person
      const changed = new Set(saved.value.changed)

      // Back from a vanishing this sync caused: active again, unless someone
      // changed the status since.
      if (
        link?.vanishedAt &&
        link.vanishStatus &&
        person.status === link.vanishStatus &&
        canChangeStatus(person.status, 'active')
      ) {
        const restored = await changeStatus.handle(
          {
            publicId: person.publicId,
            status: 'active',
            reason: reason('reappeared', { source: source.name }),
          },
          actor,
          savepoint
        )
        if (restored.ok) {
          person.status = 'active'
          changed.add('status')
        }
      }

      const now = dbTime(new Date(), savepoint)
      const seen = { entry_dn: entry.dn.slice(0, 1024), vanished_at: null, vanish_status: null }
      if (link) {
        await savepoint
          .from('directory_links')
          .where('id', link.id)
          .update({ ...seen, last_seen_at: now, updated_at: now })
      } else {
        await savepoint.table('directory_links').insert({
          ...seen,
          source_id: source.id,
          person_id: person.id,
          last_seen_at: now,
          created_at: now,
          updated_at: now,
        })
      }
      await savepoint.commit()

      const row = { personNo: person.personNo, name: person.name, dn: entry.dn }
      if (saved.value.created) {
        counts.created++
        keepRow(diff, 'created', row)
      } else if (changed.size > 0) {
        counts.updated++
        const unit = units.get(person.orgUnitId)
        const after = unit ? personSnapshot(person, unit, []) : null
        const fields =
          before && after
            ? Object.entries(diffSnapshots(before, after))
                .filter(([field]) => changed.has(field))
                .map(([field, [from, to]]) => ({ field, before: from, after: to }))
            : []
        keepRow(diff, 'updated', { ...row, adopted: !link || undefined, fields })
      } else {
        counts.unchanged++
        keepRow(diff, 'unchanged', { ...row, adopted: !link || undefined })
      }
    } catch (error) {
      await savepoint.rollback().catch(() => {})
      logger.warn(
        { run: run.publicId, dn: entry.dn, err: describeError(error) },
        'directory entry could not be synced'
      )
      invalid(entry, [
        {
          field: 'entry',
          code: 'unexpected',
          params: { message: describeError(error).split('\n')[0].slice(0, 200) },
        },
      ])
    }
  }

  /** One vanished person inside the batch transaction. */
  const applyVanished = async (trx: TransactionClientContract, link: LinkRow) => {
    let outcome: VanishedOutcome = vanishedOutcome(source.vanishedAction, link.status)
    if (writes) {
      if (outcome !== 'kept') {
        const changed = await changeStatus.handle(
          {
            publicId: link.publicId,
            status: outcome,
            reason: reason('vanished', { source: source.name }),
          },
          actor,
          trx
        )
        if (!changed.ok) outcome = 'kept'
      }
      const now = dbTime(new Date(), trx)
      await trx
        .from('directory_links')
        .where('id', link.id)
        .update({
          vanished_at: now,
          vanish_status: outcome === 'kept' ? null : outcome,
          updated_at: now,
        })
    }
    counts.vanished++
    keepRow(diff, 'vanished', {
      personNo: link.personNo,
      name: link.name,
      dn: link.entryDn,
      status: link.status,
      outcome,
    })
  }

  await progress(run, options, { phase: 'comparing', done: 0, total })
  for (let start = 0; start < mapped.length; start += BATCH_SIZE) {
    const batch = mapped.slice(start, start + BATCH_SIZE)
    await inBatch(writes, (trx) => sequence(batch, (entry) => applyEntry(trx, entry)))
    done += batch.length
    await progress(run, options, { phase: 'comparing', done, total })
  }
  for (let start = 0; start < vanished.length; start += BATCH_SIZE) {
    const batch = vanished.slice(start, start + BATCH_SIZE)
    await inBatch(writes, (trx) => sequence(batch, (link) => applyVanished(trx, link)))
    done += batch.length
    await progress(run, options, { phase: 'vanished', done, total })
  }

  const status: RunStatus = problem ? 'blocked' : 'succeeded'
  if (run.mode === 'apply') {
    await db.transaction(async (trx) => {
      await finish(run, status, { counts, diff, problem }, trx)
      await auditApply(run, source, status, counts, problem, trx)
    })
  } else {
    await finish(run, status, { counts, diff, problem })
  }
  logger.info(
    { run: run.publicId, source: source.publicId, mode: run.mode, status, counts },
    'directory sync run finished'
  )
}

/** Runs `work` in a transaction that is committed when `commit` is true, else rolled back. */
async function inBatch(commit: boolean, work: (trx: TransactionClientContract) => Promise<void>) {
  const trx = await db.transaction()
  try {
    await work(trx)
  } catch (error) {
    await trx.rollback()
    throw error
  }
  if (commit) await trx.commit()
  else await trx.rollback()
}

async function sequence<T>(items: T[], work: (item: T) => Promise<void>) {
  for (const item of items) await work(item)
}
