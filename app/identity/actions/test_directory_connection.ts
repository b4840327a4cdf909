import logger from '@adonisjs/core/services/logger'
import { fail, ok, type Result } from '#core/services/result'
import DirectorySource from '#identity/models/directory_source'
import { testDirectory, type DirectoryError } from '#identity/services/directory_client'
import { mapEntry, mappedAttributes, type EntryProblem } from '#identity/services/directory_mapping'
import { connectionOf } from '#identity/services/directory_sync'
import { valueLabels } from '#identity/services/export_people'

/** One of the first entries, as the mapping reads it. */
export interface SampleEntry {
  dn: string
  personNo: string | null
  name: string | null
  identityType: string | null
  orgUnitCode: string | null
  problems: EntryProblem[]
}

export interface ConnectionTest {
  found: number
  more: boolean
  samples: SampleEntry[]
}

export type ConnectionTestError = DirectoryError | 'not_found' | 'password_unreadable'

/**
 * Connects with a saved source's settings, binds, and reads the first
 * entries of its search, mapped the way a sync would map them. Changes
 * nothing. Phone numbers and e-mail addresses are left out of the samples.
 */
export class TestDirectoryConnection {
  async handle(sourcePublicId: string): Promise<Result<ConnectionTest, ConnectionTestError>> {
    const source = await DirectorySource.findBy('public_id', sourcePublicId.toUpperCase())
    if (!source) return fail('not_found')
    const settings = connectionOf(source)
    if (!settings) return fail('password_unreadable')
    const tested = await testDirectory(settings, {
      baseDn: source.baseDn,
      searchFilter: source.searchFilter,
      scope: source.scope,
      pageSize: source.pageSize,
      attributes: mappedAttributes(source.mapping),
    })
    if (!tested.ok) {
      logger.info(
        { source: source.publicId, error: tested.error },
        'directory connection test failed'
      )
      return tested
    }
    const labels = valueLabels()
    return ok({
      found: tested.value.found,
      more: tested.value.more,
      samples: tested.value.samples.map((entry) => {
        const mapped = mapEntry(entry, source.mapping, {
          gender: labels.gender,
          identityType: labels.identityType,
        })
        return {
          dn: entry.dn,
          personNo: mapped.input.personNo ?? null,
          name: mapped.input.name ?? null,
          identityType: mapped.input.identityType ?? null,
          orgUnitCode: mapped.orgUnitCode,
          problems: mapped.problems,
        }
      }),
    })
  }
}
