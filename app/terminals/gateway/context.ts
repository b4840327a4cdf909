import type { IncomingHttpHeaders } from 'node:http'
import { errors as vineErrors } from '@vinejs/vine'
import type Terminal from '#terminals/models/terminal'
import { GatewayError } from './errors.js'

export interface GatewayRequest {
  method: string
  path: string
  query: URLSearchParams
  headers: IncomingHttpHeaders
  /** The peer's IP address. */
  address: string | null
  params: Record<string, string>
}

export interface GatewayReply {
  status: number
  body: unknown
}

interface Validator {
  validate(data: any): Promise<any>
}

/**
 * What a gateway handler gets: the request, the authenticated terminal and
 * helpers to answer. Handlers return `ctx.reply(...)` or `ctx.refuse(...)`
 * (or throw GatewayError).
 */
export class GatewayContext {
  #terminal: Terminal | null

  constructor(
    readonly request: GatewayRequest,
    /** Parsed JSON body (undefined for GET). */
    readonly body: unknown,
    terminal: Terminal | null,
    /** When the gateway received the request. */
    readonly now: Date = new Date()
  ) {
    this.#terminal = terminal
  }

  /** The terminal that made the request (its client certificate). Throws on unauthenticated routes. */
  get terminal(): Terminal {
    if (!this.#terminal) throw new GatewayError('certificate_required', 401)
    return this.#terminal
  }

  get hasTerminal(): boolean {
    return this.#terminal !== null
  }

  /** Validates the JSON body (or, for GET, the query as an object) with a compiled Vine validator. */
  async validate<V extends Validator>(validator: V): Promise<Awaited<ReturnType<V['validate']>>> {
    const data =
      this.request.method === 'GET' ? Object.fromEntries(this.request.query.entries()) : this.body
    try {
      return await validator.validate(data)
    } catch (error) {
      if (error instanceof vineErrors.E_VALIDATION_ERROR) {
        throw new GatewayError('invalid_request', 422, { fields: error.messages })
      }
      throw error
    }
  }

  reply(body: unknown, status = 200): GatewayReply {
    return { status, body }
  }

  refuse(code: string, status: number, details?: Record<string, unknown>): never {
    throw new GatewayError(code, status, details)
  }
}
