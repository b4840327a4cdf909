import type { CasAttributes, CasFailureCode } from '#app_center/services/cas_tickets'

/**
 * The CAS protocol's answers to validation requests, as XML (the default)
 * or JSON (`format=JSON`), shaped as in the CAS 3.0 specification's
 * appendix.
 */

export type CasFormat = 'XML' | 'JSON'

export function casFormat(value: unknown): CasFormat {
  return typeof value === 'string' && value.toUpperCase() === 'JSON' ? 'JSON' : 'XML'
}

export function escapeXml(value: string): string {
  return value.replace(/[<>&'"]/g, (char) => `&#${char.charCodeAt(0)};`)
}

const OPEN = '<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">'
const CLOSE = '</cas:serviceResponse>'

export interface CasBody {
  contentType: string
  body: string
}

function xml(inner: string): CasBody {
  return { contentType: 'application/xml; charset=utf-8', body: `${OPEN}\n${inner}\n${CLOSE}\n` }
}

function json(value: unknown): CasBody {
  return { contentType: 'application/json; charset=utf-8', body: JSON.stringify(value) }
}

/** authenticationSuccess, with attributes (CAS 3.0) or without (CAS 2.0). */
export function successResponse(
  format: CasFormat,
  user: string,
  attributes: CasAttributes | null
): CasBody {
  if (format === 'JSON') {
    return json({
      serviceResponse: {
        authenticationSuccess: { user, ...(attributes ? { attributes } : {}) },
      },
    })
  }
  const lines = [`  <cas:authenticationSuccess>`, `    <cas:user>${escapeXml(user)}</cas:user>`]
  if (attributes) {
    lines.push('    <cas:attributes>')
    for (const [name, value] of Object.entries(attributes)) {
      for (const item of Array.isArray(value) ? value : [value]) {
        lines.push(`      <cas:${name}>${escapeXml(item)}</cas:${name}>`)
      }
    }
    lines.push('    </cas:attributes>')
  }
  lines.push('  </cas:authenticationSuccess>')
  return xml(lines.join('\n'))
}

/** authenticationFailure (validation) or proxyFailure (the /proxy endpoint). */
export function failureResponse(
  format: CasFormat,
  code: CasFailureCode,
  description: string,
  element: 'authenticationFailure' | 'proxyFailure' = 'authenticationFailure'
): CasBody {
  if (format === 'JSON') return json({ serviceResponse: { [element]: { code, description } } })
  return xml(`  <cas:${element} code="${code}">${escapeXml(description)}</cas:${element}>`)
}
