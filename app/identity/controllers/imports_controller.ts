import type { HttpContext } from '@adonisjs/core/http'
import { actorFrom } from '#core/http/actor'
import { CheckPeopleImport } from '#identity/actions/check_people_import'
import { ConfirmPeopleImport } from '#identity/actions/confirm_people_import'
import { MapPeopleImport } from '#identity/actions/map_people_import'
import { exampleRow, peopleHeaders } from '#identity/services/export_people'
import { PEOPLE_COLUMNS } from '#identity/services/import_people'
import { findImportRecord, type ImportRecord } from '#identity/services/import_records'
import { DEFAULT_LIMITS, writeCsv, writeXlsx } from '#identity/services/spreadsheet'
import {
  formatParamsValidator,
  importMappingValidator,
  importParamsValidator,
} from '#identity/validators/imports'

async function recordFromParams(params: Record<string, unknown>): Promise<ImportRecord | null> {
  const [error, input] = await importParamsValidator.tryValidate(params)
  return error ? null : findImportRecord(input.publicId)
}

/** A row error in the reader's language: the registry's own messages, or the importer's. */
function errorMessage(i18n: HttpContext['i18n'], code: string, params?: Record<string, unknown>) {
  const own = `identity.people.errors.${code}`
  return i18n.hasMessage(own) ? i18n.t(own, params) : i18n.t(`imports.errors.${code}`, params)
}

export default class ImportsController {
  /** The upload form, with the template links. */
  async create({ view, bouncer }: HttpContext) {
    await bouncer.authorize('permit', 'people.write')
    return view.render('pages/identity/imports/create', {
      maxMegabytes: DEFAULT_LIMITS.maxBytes / 1024 / 1024,
      maxRows: DEFAULT_LIMITS.maxRows,
      columns: PEOPLE_COLUMNS,
    })
  }

  /** Takes the upload, runs the dry run and shows its result. */
  async store(ctx: HttpContext) {
    const { request, response, session, i18n, bouncer } = ctx
    await bouncer.authorize('permit', 'people.write')
    const file = request.file('file', {
      size: DEFAULT_LIMITS.maxBytes,
      extnames: ['csv', 'xlsx', 'txt'],
    })
    const refuse = (code: string, params?: Record<string, unknown>) => {
      session.flash('error', i18n.t(`imports.errors.${code}`, params))
      return response.redirect('/console/people/import')
    }
    if (!file || !file.tmpPath) return refuse('no_file')
    if (!file.isValid) {
      const tooLarge = file.errors.some((problem) => problem.type === 'size')
      return refuse(tooLarge ? 'file_too_large' : 'not_spreadsheet', {
        limit: DEFAULT_LIMITS.maxBytes / 1024 / 1024,
      })
    }
    const result = await new CheckPeopleImport().handle(
      { sourcePath: file.tmpPath, fileName: file.clientName, locale: i18n.locale },
      actorFrom(ctx)
    )
    if (!result.ok)
      return refuse(result.error, {
        limit:
          result.error === 'file_too_large'
            ? DEFAULT_LIMITS.maxBytes / 1024 / 1024
            : DEFAULT_LIMITS.maxRows,
      })
    return response.redirect(`/console/imports/${result.value}`)
  }

  /** The dry run's result, the job's progress or the import's outcome. */
  async show({ params, view, bouncer, i18n, response }: HttpContext) {
    await bouncer.authorize('permit', 'people.write')
    const record = await recordFromParams(params)
    if (!record) return response.notFound(i18n.t('imports.not_found'))
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
      percent: record.totalRows ? Math.floor((record.doneRows / record.totalRows) * 100) : 0,
      inProgress: ['checking', 'queued', 'running'].includes(record.status),
      errors: record.errors.map((error) => ({
        ...error,
        message: errorMessage(i18n, error.code, error.params),
      })),
      missing: (details.missing ?? []).map((key) => i18n.t(`imports.columns.${key}`)),
      unknown: details.unknown ?? [],
      duplicated: (details.duplicated ?? []).map((key) => i18n.t(`imports.columns.${key}`)),
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
        ...PEOPLE_COLUMNS.map((column) => ({
          value: column.key,
          label: i18n.t(`imports.columns.${column.key}`),
        })),
      ],
    })
  }

  /** Takes the user's choice of column for each header and queues the dry run. */
  async mapping({ params, request, response, session, bouncer, i18n }: HttpContext) {
    await bouncer.authorize('permit', 'people.write')
    const [error, input] = await importParamsValidator.tryValidate(params)
    if (error) return response.notFound(i18n.t('imports.not_found'))
    const [invalid, body] = await importMappingValidator.tryValidate(request.only(['columns']))
    if (invalid) {
      session.flash('error', i18n.t('imports.mapping_invalid'))
      return response.redirect(`/console/imports/${input.publicId}`)
    }
    const result = await new MapPeopleImport().handle(input.publicId, body.columns)
    if (!result.ok) {
      if (result.error === 'not_found') return response.notFound(i18n.t('imports.not_found'))
      session.flash('error', i18n.t(`imports.mapping_${result.error}`))
    }
    return response.redirect(`/console/imports/${input.publicId}`)
  }

  /** Queues the checked import. */
  async confirm({ params, response, session, bouncer, i18n }: HttpContext) {
    await bouncer.authorize('permit', 'people.write')
    const [error, input] = await importParamsValidator.tryValidate(params)
    if (error) return response.notFound(i18n.t('imports.not_found'))
    const result = await new ConfirmPeopleImport().handle(input.publicId)
    if (!result.ok) {
      if (result.error === 'not_found') return response.notFound(i18n.t('imports.not_found'))
      session.flash('error', i18n.t('imports.not_confirmable'))
    }
    return response.redirect(`/console/imports/${input.publicId}`)
  }

  /** The progress the page's script polls. */
  async progress({ params, response, bouncer }: HttpContext) {
    await bouncer.authorize('permit', 'people.write')
    const record = await recordFromParams(params)
    if (!record) return response.notFound({ error: 'not_found' })
    response.header('cache-control', 'no-store')
    return {
      status: record.status,
      done: record.doneRows,
      total: record.totalRows,
    }
  }

  /** The empty template: the header row and one example row. */
  async template({ params, response, bouncer, i18n }: HttpContext) {
    await bouncer.authorize('permit', 'people.write')
    const [error, input] = await formatParamsValidator.tryValidate(params)
    if (error) return response.notFound(i18n.t('imports.not_found'))
    const headers = peopleHeaders(i18n.locale)
    const rows = [exampleRow(i18n.locale)]
    const bytes =
      input.format === 'csv' ? writeCsv(headers, rows) : await writeXlsx('people', headers, rows)
    return sendFile(response, bytes, input.format, 'people-template')
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
