import type { HttpContext } from '@adonisjs/core/http'
import { actorFrom } from '#core/http/actor'
import { CheckPeopleImport } from '#identity/actions/check_people_import'
import { CheckOrgUnitImport } from '#identity/actions/check_org_unit_import'
import { ConfirmImport } from '#identity/actions/confirm_import'
import { MapImport } from '#identity/actions/map_import'
import { exampleRow, peopleHeaders } from '#identity/services/export_people'
import { orgExampleRows, orgUnitHeaders } from '#identity/services/export_org_units'
import { importKind } from '#identity/services/import_kinds'
import {
  findImportRecord,
  IMPORT_KINDS,
  type ImportKind,
  type ImportRecord,
} from '#identity/services/import_records'
import { DEFAULT_LIMITS, writeCsv, writeXlsx } from '#identity/services/spreadsheet'
import { scopeFor } from '#identity/services/admin_access'
import ImportPolicy from '#identity/policies/import_policy'
import {
  formatParamsValidator,
  importMappingValidator,
  importParamsValidator,
} from '#identity/validators/imports'

/** Where each kind of import lives in the console, and the words its pages use. */
const PAGES: Record<
  ImportKind,
  { upload: string; back: string; backLabel: string; title: string; columns: string }
> = {
  people: {
    upload: '/console/people/import',
    back: '/console/people',
    backLabel: 'imports.back_to_people',
    title: 'imports.upload_title',
    columns: 'imports.columns.',
  },
  org_units: {
    upload: '/console/org/import',
    back: '/console/org',
    backLabel: 'imports.org.back',
    title: 'imports.org.upload_title',
    columns: 'imports.org.columns.',
  },
}

/** Where each kind looks first for the message of a row error. */
const OWN_ERRORS: Record<ImportKind, string> = {
  people: 'identity.people.errors.',
  org_units: 'identity.org.errors.',
}

async function recordFromParams(params: Record<string, unknown>): Promise<ImportRecord | null> {
  const [error, input] = await importParamsValidator.tryValidate(params)
  return error ? null : findImportRecord(input.publicId)
}

/** A row error in the reader's language: the registry's own messages, or the importer's. */
function errorMessage(
  i18n: HttpContext['i18n'],
  kind: ImportKind,
  code: string,
  params?: Record<string, unknown>
) {
  const own = `${OWN_ERRORS[kind]}${code}`
  return i18n.hasMessage(own) ? i18n.t(own, params) : i18n.t(`imports.errors.${code}`, params)
}

/** The upload form of one kind, with its template links and the columns it reads. */
async function uploadForm({ view, bouncer, i18n, auth }: HttpContext, kind: ImportKind) {
  const definition = importKind(kind)
  await bouncer.authorize('permit', definition.permission)
  return view.render('pages/identity/imports/create', {
    kind,
    page: PAGES[kind],
    // Both kinds are offered to an account that may do both.
    kinds: IMPORT_KINDS.filter((other) => auth.user!.can(importKind(other).permission)).map(
      (other) => ({ kind: other, href: PAGES[other].upload, current: other === kind })
    ),
    maxMegabytes: DEFAULT_LIMITS.maxBytes / 1024 / 1024,
    maxRows: DEFAULT_LIMITS.maxRows,
    columns: definition.columns.map((column) => ({
      ...column,
      label: i18n.t(`${PAGES[kind].columns}${column.key}`),
    })),
  })
}

/** Takes an upload of one kind, starts its dry run and shows where it stands. */
async function takeUpload(ctx: HttpContext, kind: ImportKind) {
  const { request, response, session, i18n, bouncer } = ctx
  await bouncer.authorize('permit', importKind(kind).permission)
  const file = request.file('file', {
    size: DEFAULT_LIMITS.maxBytes,
    extnames: ['csv', 'xlsx', 'txt'],
  })
  const refuse = (code: string, params?: Record<string, unknown>) => {
    session.flash('error', i18n.t(`imports.errors.${code}`, params))
    return response.redirect(PAGES[kind].upload)
  }
  if (!file || !file.tmpPath) return refuse('no_file')
  if (!file.isValid) {
    const tooLarge = file.errors.some((problem) => problem.type === 'size')
    return refuse(tooLarge ? 'file_too_large' : 'not_spreadsheet', {
      limit: DEFAULT_LIMITS.maxBytes / 1024 / 1024,
    })
  }
  const input = {
    sourcePath: file.tmpPath,
    fileName: file.clientName,
    locale: i18n.locale,
    // Rows outside the uploader's part of the tree become row errors.
    scope: await scopeFor(ctx.auth.getUserOrFail(), importKind(kind).permission),
  }
  const result =
    kind === 'people'
      ? await new CheckPeopleImport().handle(input, actorFrom(ctx))
      : await new CheckOrgUnitImport().handle(input, actorFrom(ctx))
  if (!result.ok)
    return refuse(result.error, {
      limit:
        result.error === 'file_too_large'
          ? DEFAULT_LIMITS.maxBytes / 1024 / 1024
          : DEFAULT_LIMITS.maxRows,
    })
  return response.redirect(`/console/imports/${result.value}`)
}

/** The empty template of one kind: the header row and example rows. */
async function template({ params, response, bouncer, i18n }: HttpContext, kind: ImportKind) {
  await bouncer.authorize('permit', importKind(kind).permission)
  const [error, input] = await formatParamsValidator.tryValidate(params)
  if (error) return response.notFound(i18n.t('imports.not_found'))
  const headers = kind === 'people' ? peopleHeaders(i18n.locale) : orgUnitHeaders(i18n.locale)
  const rows = kind === 'people' ? [exampleRow(i18n.locale)] : orgExampleRows(i18n.locale)
  const name = kind === 'people' ? 'people' : 'org_units'
  const bytes =
    input.format === 'csv' ? writeCsv(headers, rows) : await writeXlsx(name, headers, rows)
  return sendFile(response, bytes, input.format, `${name}-template`)
}

export default class ImportsController {
  /** The upload form for people, with the template links. */
  async create(ctx: HttpContext) {
    return uploadForm(ctx, 'people')
  }

  /** The upload form for org units. */
  async createOrgUnits(ctx: HttpContext) {
    return uploadForm(ctx, 'org_units')
  }

  /** Takes a people upload and starts its dry run. */
  async store(ctx: HttpContext) {
    return takeUpload(ctx, 'people')
  }

  /** Takes an org-unit upload and starts its dry run. */
  async storeOrgUnits(ctx: HttpContext) {
    return takeUpload(ctx, 'org_units')
  }

  /** The dry run's result, the job's progress or the import's outcome. */
  async show({ params, view, bouncer, i18n, response }: HttpContext) {
    const record = await recordFromParams(params)
    if (!record) {
      await bouncer.authorize('permit', 'people.write')
      return response.notFound(i18n.t('imports.not_found'))
    }
    const definition = importKind(record.kind)
    await bouncer.with(ImportPolicy).authorize('open', definition.permission, record.scope)
    const columnLabel = (key: string) => i18n.t(`${PAGES[record.kind].columns}${key}`)
    const problem = record.problem
    const details = (problem?.details ?? {}) as {
      missing?: string[]
      unknown?: string[]
      duplicated?: string[]
      headers?: string[]
      chosen?: (string | null)[]
    }
    return view.render('pages/identity/imports/show', {
      record,
      page: PAGES[record.kind],
      percent: record.totalRows ? Math.floor((record.doneRows / record.totalRows) * 100) : 0,
      inProgress: ['checking', 'queued', 'running'].includes(record.status),
      errors: record.errors.map((error) => ({
        ...error,
        message: errorMessage(i18n, record.kind, error.code, error.params),
      })),
      missing: (details.missing ?? []).map(columnLabel),
      unknown: details.unknown ?? [],
      duplicated: (details.duplicated ?? []).map(columnLabel),
      mappingRows:
        record.status === 'unmapped'
          ? (details.headers ?? []).map((header, index) => ({
              index,
              header,
              chosen: details.chosen?.[index] ?? 'ignore',
            }))
          : [],
      columnOptions: [
        { value: 'ignore', label: i18n.t('imports.ignore_column') },
        ...definition.columns.map((column) => ({
          value: column.key,
          label: columnLabel(column.key),
        })),
      ],
    })
  }

  /** Takes the user's choice of column for each header and queues the dry run. */
  async mapping({ params, request, response, session, bouncer, i18n }: HttpContext) {
    const record = await recordFromParams(params)
    await bouncer.authorize('permit', record ? importKind(record.kind).permission : 'people.write')
    if (!record) return response.notFound(i18n.t('imports.not_found'))
    await bouncer
      .with(ImportPolicy)
      .authorize('open', importKind(record.kind).permission, record.scope)
    const back = `/console/imports/${record.publicId}`
    const [invalid, body] = await importMappingValidator.tryValidate(request.only(['columns']))
    if (invalid) {
      session.flash('error', i18n.t('imports.mapping_invalid'))
      return response.redirect(back)
    }
    const result = await new MapImport().handle(record.publicId, body.columns)
    if (!result.ok) {
      if (result.error === 'not_found') return response.notFound(i18n.t('imports.not_found'))
      session.flash('error', i18n.t(`imports.mapping_${result.error}`))
    }
    return response.redirect(back)
  }

  /** Queues the checked import. */
  async confirm({ params, response, session, bouncer, i18n }: HttpContext) {
    const record = await recordFromParams(params)
    await bouncer.authorize('permit', record ? importKind(record.kind).permission : 'people.write')
    if (!record) return response.notFound(i18n.t('imports.not_found'))
    await bouncer
      .with(ImportPolicy)
      .authorize('open', importKind(record.kind).permission, record.scope)
    const result = await new ConfirmImport().handle(record.publicId)
    if (!result.ok) {
      if (result.error === 'not_found') return response.notFound(i18n.t('imports.not_found'))
      session.flash('error', i18n.t('imports.not_confirmable'))
    }
    return response.redirect(`/console/imports/${record.publicId}`)
  }

  /** The progress the page's script polls. */
  async progress({ params, response, bouncer }: HttpContext) {
    const record = await recordFromParams(params)
    await bouncer.authorize('permit', record ? importKind(record.kind).permission : 'people.write')
    if (!record) return response.notFound({ error: 'not_found' })
    await bouncer
      .with(ImportPolicy)
      .authorize('open', importKind(record.kind).permission, record.scope)
    response.header('cache-control', 'no-store')
    return {
      status: record.status,
      done: record.doneRows,
      total: record.totalRows,
    }
  }

  /** The empty people template. */
  async template(ctx: HttpContext) {
    return template(ctx, 'people')
  }

  /** The empty org-unit template. */
  async templateOrgUnits(ctx: HttpContext) {
    return template(ctx, 'org_units')
  }
}

/** Sends spreadsheet bytes as a download. */
export function sendFile(
  response: HttpContext['response'],
  bytes: Buffer,
  format: 'csv' | 'xlsx',
  name: string
) {
  response.header(
    'content-type',
    format === 'csv'
      ? 'text/csv; charset=utf-8'
      : 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
  )
  response.header('content-disposition', `attachment; filename="${name}.${format}"`)
  response.header('cache-control', 'no-store')
  return response.send(bytes)
}
