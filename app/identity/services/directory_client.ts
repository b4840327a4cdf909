import { X509Certificate } from 'node:crypto'
import type { ConnectionOptions } from 'node:tls'
import {
  Client,
  ConfidentialityRequiredError,
  FilterParser,
  InappropriateAuthError,
  InsufficientAccessError,
  InvalidCredentialsError,
  InvalidDNSyntaxError,
  NoSuchObjectError,
  SizeLimitExceededError,
  StrongAuthRequiredError,
  TimeLimitExceededError,
  UnavailableCriticalExtensionError,
  type Entry,
} from 'ldapts'
import { fail, ok, type Result } from '#core/services/result'
import type { DirectoryScope } from '#identity/models/directory_source'
import type { DirectoryEntry } from '#identity/services/directory_mapping'

/**
 * The LDAP side of directory sync, through ldapts: connect (optionally
 * StartTLS), bind, and a paged search. Failures become codes that every
 * adapter explains in its own words, with the server's own diagnostic text
 * (never the password) as the detail.
 */

export interface ConnectionSettings {
  url: string
  startTls: boolean
  caCertificate: string | null
  bindDn: string | null
  /** In clear, decrypted just before use. */
  bindPassword: string | null
  timeoutSeconds: number
}

export interface SearchSettings {
  baseDn: string
  searchFilter: string
  scope: DirectoryScope
  pageSize: number
  attributes: string[]
}

export type DirectoryError =
  | 'connect_failed'
  | 'timeout'
  | 'tls_failed'
  | 'tls_required'
  | 'bind_failed'
  | 'base_dn_not_found'
  | 'filter_invalid'
  | 'access_denied'
  | 'paging_unsupported'
  | 'size_limit'
  | 'directory_error'

export interface DirectoryFailure {
  error: DirectoryError
  /** What the server or the network said, cut short; free of secrets. */
  detail: string
}

const TLS_CODES =
  /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|HOSTNAME|ALTNAME|ERR_SSL|EPROTO|wrong version/i

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
])

/** At most this many characters of a server message are kept. */
const MAX_DETAIL = 300

function detailOf(error: unknown): string {
  let text = String(error)
  if (error instanceof Error) {
    // Network errors carry a string code (ECONNREFUSED); LDAP result errors a number.
    const code = (error as NodeJS.ErrnoException).code
    const named = typeof code === 'string' && !error.message.includes(code) ? `${code}: ` : ''
    text = `${error.name}: ${named}${error.message}`
  }
  const line = text.replace(/\s+/g, ' ').trim()
  return line.length > MAX_DETAIL ? line.slice(0, MAX_DETAIL - 1) + '…' : line
}

/** Sorts an error thrown while talking to a directory into a code. */
export function classifyDirectoryError(
  error: unknown,
  stage: 'connect' | 'bind' | 'search'
): DirectoryFailure {
  const detail = detailOf(error)
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  const failure = (kind: DirectoryError): DirectoryFailure => ({ error: kind, detail })
  if (error instanceof InvalidCredentialsError || error instanceof InappropriateAuthError)
    return failure('bind_failed')
  if (error instanceof StrongAuthRequiredError || error instanceof ConfidentialityRequiredError)
    return failure('tls_required')
  if (error instanceof InsufficientAccessError) return failure('access_denied')
  if (error instanceof NoSuchObjectError) return failure('base_dn_not_found')
  if (error instanceof InvalidDNSyntaxError)
    return failure(stage === 'bind' ? 'bind_failed' : 'base_dn_not_found')
  if (error instanceof UnavailableCriticalExtensionError) return failure('paging_unsupported')
  if (error instanceof SizeLimitExceededError) return failure('size_limit')
  if (error instanceof TimeLimitExceededError) return failure('timeout')
  if (error instanceof Error && /timeout|timed out/i.test(error.message)) return failure('timeout')
  if (typeof code === 'string' && TLS_CODES.test(code)) return failure('tls_failed')
  if (error instanceof Error && TLS_CODES.test(error.message) && stage === 'connect')
    return failure('tls_failed')
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return failure('connect_failed')
  if (error instanceof Error && /Socket error|Connection closed/i.test(error.message))
    return failure(stage === 'connect' ? 'connect_failed' : 'directory_error')
  return failure('directory_error')
}

/** True when the text is an RFC 4515 filter that ldapts can send. */
export function isValidFilter(filter: string): boolean {
  try {
    FilterParser.parseString(filter)
    return true
  } catch {
    return false
  }
}

/** The certificates of a PEM bundle; null when a block does not parse. */
export function parseCertificates(pem: string): X509Certificate[] | null {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)
  if (!blocks) return null
  try {
    return blocks.map((block) => new X509Certificate(block))
  } catch {
    return null
  }
}

function tlsOptions(settings: ConnectionSettings): ConnectionOptions {
  const options: ConnectionOptions = { minVersion: 'TLSv1.2' }
  if (settings.caCertificate) options.ca = [settings.caCertificate]
  // A host name in the URL is also the name the certificate must carry.
  const host = new URL(settings.url).hostname.replace(/^\[|\]$/g, '')
  if (!/^[\d.]+$|:/.test(host)) options.servername = host
  return options
}

/**
 * Connects and binds; returns a client ready to search, or why not. The
 * caller closes it with `closeDirectory`.
 */
export async function openDirectory(
  settings: ConnectionSettings
): Promise<Result<Client, DirectoryError>> {
  const timeout = settings.timeoutSeconds * 1000
  const secure = settings.url.toLowerCase().startsWith('ldaps:')
  const client = new Client({
    url: settings.url,
    timeout,
    connectTimeout: timeout,
    tlsOptions: secure ? tlsOptions(settings) : undefined,
    strictDN: false,
  })
  let stage: 'connect' | 'bind' = 'connect'
  try {
    if (settings.startTls && !secure) await client.startTLS(tlsOptions(settings))
    if (settings.bindDn) {
      stage = 'bind'
      await client.bind(settings.bindDn, settings.bindPassword ?? '')
    }
    return ok(client)
  } catch (error) {
    await closeDirectory(client)
    const failure = classifyDirectoryError(error, stage)
    return fail(failure.error, { detail: failure.detail })
  }
}

/** Unbinds and closes, ignoring a connection that is already gone. */
export async function closeDirectory(client: Client): Promise<void> {
  try {
    await client.unbind()
  } catch {
    // The connection is closed either way.
  }
}

/** An entry with its attribute names in lower case and every value as text. */
export function readEntry(entry: Entry): DirectoryEntry {
  const attributes = new Map<string, string[]>()
  for (const [name, value] of Object.entries(entry)) {
    if (name === 'dn') continue
    const values = (Array.isArray(value) ? value : [value]).map((item) =>
      Buffer.isBuffer(item) ? item.toString('utf8') : String(item)
    )
    const key = name.toLowerCase()
    attributes.set(key, [...(attributes.get(key) ?? []), ...values])
  }
  return { dn: entry.dn, attributes }
}

/**
 * Runs the paged search and hands each page's entries to `onPage`. Stops at
 * the first error, which it returns as a code.
 */
export async function searchDirectory(
  client: Client,
  search: SearchSettings,
  onPage: (entries: DirectoryEntry[]) => void | Promise<void>
): Promise<Result<number, DirectoryError>> {
  let count = 0
  try {
    const pages = client.searchPaginated(search.baseDn, {
      scope: search.scope,
      filter: search.searchFilter,
      attributes: search.attributes.length ? search.attributes : ['1.1'],
      paged: { pageSize: search.pageSize },
    })
    for await (const page of pages) {
      const entries = page.searchEntries.map(readEntry)
      count += entries.length
      await onPage(entries)
    }
    return ok(count)
  } catch (error) {
    const failure = classifyDirectoryError(error, 'search')
    return fail(failure.error, { detail: failure.detail })
  }
}

/** What a connection test found. */
export interface ConnectionReport {
  /** Entries the search found, up to `sampleLimit`. */
  found: number
  /** True when there were more than the entries counted. */
  more: boolean
  /** The DN and mapped values of the first entries, for the operator to check the mapping. */
  samples: DirectoryEntry[]
}

/**
 * Connects, binds and reads the first page of the search: enough to tell
 * the operator that the settings work and what the entries look like.
 */
export async function testDirectory(
  settings: ConnectionSettings,
  search: SearchSettings,
  sampleLimit = 5
): Promise<Result<ConnectionReport, DirectoryError>> {
  const opened = await openDirectory(settings)
  if (!opened.ok) return opened
  const client = opened.value
  try {
    const pages = client.searchPaginated(search.baseDn, {
      scope: search.scope,
      filter: search.searchFilter,
      attributes: search.attributes,
      paged: { pageSize: Math.min(search.pageSize, 100) },
    })
    const first = await pages.next()
    const entries = first.done ? [] : first.value.searchEntries.map(readEntry)
    // A second page means there are more entries than the first page holds.
    const more = !first.done && entries.length >= Math.min(search.pageSize, 100)
    await pages.return(undefined)
    return ok({ found: entries.length, more, samples: entries.slice(0, sampleLimit) })
  } catch (error) {
    const failure = classifyDirectoryError(error, 'search')
    return fail(failure.error, { detail: failure.detail })
  } finally {
    await closeDirectory(client)
  }
}
