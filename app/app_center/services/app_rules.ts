/**
 * What an app in the app center may be, and the checks its settings pass
 * before they are stored: the kinds and categories, the OpenID Connect
 * settings a client may have, and the shape of redirect URIs, launch URLs and
 * CAS service patterns. Plain functions over plain data, shared by the
 * console form, the actions and the provider.
 */

export const APP_KINDS = ['oidc', 'cas', 'link', 'builtin'] as const
export type AppKind = (typeof APP_KINDS)[number]

/** The service hall's sections, in the order it shows them. */
export const APP_CATEGORIES = [
  'teaching',
  'research',
  'office',
  'campus_life',
  'finance',
  'library',
  'communication',
  'other',
] as const
export type AppCategory = (typeof APP_CATEGORIES)[number]

/** Scopes an OpenID Connect client may be allowed; `openid` is always among them. */
export const OIDC_SCOPES = [
  'openid',
  'profile',
  'email',
  'phone',
  'campus',
  'offline_access',
] as const
export type OidcScope = (typeof OIDC_SCOPES)[number]

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code'

export const GRANT_TYPES = ['authorization_code', 'refresh_token', DEVICE_CODE_GRANT] as const
export type GrantType = (typeof GRANT_TYPES)[number]

/**
 * How a client proves itself at the token endpoint. Secrets are stored as
 * digests, so methods that need the secret itself (client_secret_jwt) are
 * not offered.
 */
export const TOKEN_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'none'] as const
export type TokenAuthMethod = (typeof TOKEN_AUTH_METHODS)[number]

export const ID_TOKEN_ALGS = ['RS256', 'EdDSA'] as const
export type IdTokenAlg = (typeof ID_TOKEN_ALGS)[number]

export const CAS_SERVICE_MATCHES = ['exact', 'prefix', 'regex'] as const
export type CasServiceMatch = (typeof CAS_SERVICE_MATCHES)[number]

export const MAX_REDIRECT_URIS = 20
export const MAX_URL_LENGTH = 2048
export const MAX_CAS_REGEX_LENGTH = 500

const includes = <T extends string>(list: readonly T[], value: unknown): value is T =>
  typeof value === 'string' && (list as readonly string[]).includes(value)

export const isAppKind = (value: unknown): value is AppKind => includes(APP_KINDS, value)
export const isAppCategory = (value: unknown): value is AppCategory =>
  includes(APP_CATEGORIES, value)
export const isOidcScope = (value: unknown): value is OidcScope => includes(OIDC_SCOPES, value)
export const isGrantType = (value: unknown): value is GrantType => includes(GRANT_TYPES, value)
export const isTokenAuthMethod = (value: unknown): value is TokenAuthMethod =>
  includes(TOKEN_AUTH_METHODS, value)
export const isIdTokenAlg = (value: unknown): value is IdTokenAlg => includes(ID_TOKEN_ALGS, value)
export const isCasServiceMatch = (value: unknown): value is CasServiceMatch =>
  includes(CAS_SERVICE_MATCHES, value)

/** Splits a textarea of URIs (one per line, or separated by spaces) into a clean list. */
export function splitUriList(text: string | null | undefined): string[] {
  if (!text) return []
  return [
    ...new Set(
      text
        .split(/[\s]+/)
        .map((part) => part.trim())
        .filter(Boolean)
    ),
  ]
}

/** An http(s) URL with a host, no credentials, or null. */
function webUrl(value: string): URL | null {
  if (value.length > MAX_URL_LENGTH) return null
  const url = URL.parse(value)
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) return null
  if (!url.hostname || url.username || url.password) return null
  return url
}

/** Schemes a redirect URI must never use, even for an app on a phone. */
const FORBIDDEN_SCHEMES = new Set(['javascript:', 'data:', 'file:', 'vbscript:', 'blob:', 'about:'])

export type RedirectUriError =
  'redirect_uri_invalid' | 'redirect_uri_fragment' | 'redirect_uri_wildcard' | 'redirect_uri_scheme'

/**
 * Checks one redirect URI. The provider matches them exactly, so a pattern
 * (a `*`) is refused rather than silently never matching. A web app uses
 * http(s); an app on a phone may use its own scheme (com.school.app:/callback).
 */
export function checkRedirectUri(value: string): RedirectUriError | null {
  if (value.length > MAX_URL_LENGTH) return 'redirect_uri_invalid'
  if (value.includes('*')) return 'redirect_uri_wildcard'
  const url = URL.parse(value)
  if (!url) return 'redirect_uri_invalid'
  if (value.includes('#')) return 'redirect_uri_fragment'
  if (FORBIDDEN_SCHEMES.has(url.protocol)) return 'redirect_uri_scheme'
  if (url.protocol === 'http:' || url.protocol === 'https:') {
    return webUrl(value) ? null : 'redirect_uri_invalid'
  }
  // A private-use scheme names the app in reverse domain order (RFC 8252).
  return /^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+:/.test(value) ? null : 'redirect_uri_scheme'
}

/** Whether an app with these redirect URIs runs on a device rather than in a browser. */
export function isNativeApp(redirectUris: string[]): boolean {
  return redirectUris.some((uri) => !/^https?:/i.test(uri))
}

export type LaunchUrlError = 'launch_url_required' | 'launch_url_invalid' | 'launch_url_path'

/**
 * Where the service hall sends a person: an absolute http(s) URL, or for a
 * built-in app a path inside Quad ("/portal/…"), never "//host" which a
 * browser would read as another site.
 */
export function checkLaunchUrl(kind: AppKind, value: string | null): LaunchUrlError | null {
  if (!value) return kind === 'oidc' || kind === 'cas' ? null : 'launch_url_required'
  if (kind === 'builtin') {
    return /^\/(?![/\\])[\x21-\x7e]*$/.test(value) && value.length <= 512 ? null : 'launch_url_path'
  }
  return webUrl(value) ? null : 'launch_url_invalid'
}

export type CasServiceError =
  | 'cas_service_required'
  | 'cas_service_invalid'
  | 'cas_service_prefix_host'
  | 'cas_service_regex_anchors'
  | 'cas_service_regex_host'
  | 'cas_service_regex_invalid'

/**
 * Checks the CAS service setting. An exact URL or a prefix must be an
 * absolute http(s) URL; a prefix must reach past the host into the path, so
 * that "https://app.school.edu.cn" cannot also match
 * "https://app.school.edu.cn.attacker.example". A regular expression must be
 * anchored at both ends and spell out its scheme and host literally.
 */
export function checkCasService(
  match: CasServiceMatch | null,
  value: string | null
): CasServiceError | null {
  if (!match || !value) return 'cas_service_required'
  if (match === 'exact') return webUrl(value) && !value.includes('#') ? null : 'cas_service_invalid'
  if (match === 'prefix') {
    const url = webUrl(value)
    if (!url || value.includes('#')) return 'cas_service_invalid'
    const afterHost = value.slice(url.protocol.length + 2 + url.host.length)
    return afterHost.startsWith('/') ? null : 'cas_service_prefix_host'
  }
  if (value.length > MAX_CAS_REGEX_LENGTH) return 'cas_service_regex_invalid'
  if (!value.startsWith('^') || !value.endsWith('$')) return 'cas_service_regex_anchors'
  // "^https://app\.school\.edu\.cn/…" (slashes plain or escaped): the host
  // is letters, digits, hyphens and escaped dots only, so no pattern widens it.
  const head = /^\^https?\??:(?:\/|\\\/){2}(?:[a-z0-9-]|\\\.)+(?::\d{1,5})?(?:\/|\\\/)/i
  if (!head.test(value)) return 'cas_service_regex_host'
  try {
    new RegExp(value)
  } catch {
    return 'cas_service_regex_invalid'
  }
  return null
}

/** Whether a CAS service URL that a client presents matches an app's setting. */
export function casServiceMatches(
  match: CasServiceMatch,
  pattern: string,
  service: string
): boolean {
  if (match === 'exact') return service === pattern
  if (match === 'prefix') return service.startsWith(pattern)
  return new RegExp(pattern).test(service)
}
