/**
 * A refusal the gateway answers as JSON:
 * `{ "error": { "code": "...", "message": "...", "details": {...} } }`.
 * Codes are listed in docs/terminal-protocol.md §10; messages are English
 * and for logs only — terminals act on the code.
 */
export class GatewayError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    readonly details?: Record<string, unknown>,
    message?: string
  ) {
    super(message ?? code)
  }
}

/** English messages for the gateway's own codes (a terminal shows its own text). */
export const GATEWAY_ERROR_MESSAGES: Record<string, string> = {
  not_found: 'No such endpoint',
  method_not_allowed: 'Method not allowed on this endpoint',
  certificate_required: 'A client certificate issued by the appliance is required',
  unknown_certificate: 'The client certificate belongs to no terminal (re-enroll the terminal)',
  terminal_revoked: 'This terminal has been revoked',
  wrong_terminal_kind: 'This endpoint is not for this kind of terminal',
  invalid_json: 'The body is not valid JSON',
  unsupported_media_type: 'Send the body as application/json',
  payload_too_large: 'The body is too large',
  invalid_request: 'The request failed validation',
  invalid_enrollment_code: 'Unknown or already used enrollment code',
  enrollment_code_expired: 'The enrollment code has expired',
  invalid_csr: 'The certificate signing request could not be read or its signature is wrong',
  unsupported_key: 'Only RSA keys of 2048 to 4096 bits are accepted',
  too_many_attempts: 'Too many failed enrollment attempts; wait a minute',
  internal_error: 'Internal error',
}

export function errorBody(code: string, details?: Record<string, unknown>, message?: string) {
  return {
    error: {
      code,
      message: message ?? GATEWAY_ERROR_MESSAGES[code] ?? code,
      ...(details ? { details } : {}),
    },
  }
}
