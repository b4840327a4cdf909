/**
 * The HTTP side of a terminal: JSON over HTTPS with a client certificate
 * (docs/terminal-protocol.md §2–§3). Plain node:https, so a vendor can map
 * each call to their own stack.
 */
import { createHash, X509Certificate } from 'node:crypto'
import { Agent, request } from 'node:https'
import type { TLSSocket } from 'node:tls'

export interface GatewayResponse<T = any> {
  status: number
  body: T
  /** The server's clock from the x-quad-server-time header (Unix ms), if sent. */
  serverTime: number | null
}

export interface ClientIdentity {
  /** PEM private key and client certificate issued at enrollment. */
  keyPem: string
  certificatePem: string
}

export interface GatewayClientOptions {
  /** e.g. https://quad.school.edu.cn:8444 */
  baseUrl: string
  /** The appliance CA (PEM) that must have signed the server certificate. */
  caPem?: string
  /**
   * Before enrollment a terminal does not have the CA yet. Give the CA's
   * SHA-256 fingerprint shown in the console next to the enrollment code to
   * check the server on first contact (trust on first use otherwise).
   */
  caFingerprint?: string
  identity?: ClientIdentity
  /** Request timeout in ms (default 10 s). */
  timeoutMs?: number
}

/** A gateway error answer: `{ error: { code, message, details } }`. */
export class GatewayRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly details?: unknown
  ) {
    super(`${status} ${code}`)
  }
}

function fingerprintOf(pemOrDer: string | Buffer): string {
  return new X509Certificate(pemOrDer).fingerprint256.replace(/:/g, '').toLowerCase()
}

export class GatewayClient {
  readonly #options: GatewayClientOptions
  #agent: Agent

  constructor(options: GatewayClientOptions) {
    this.#options = options
    this.#agent = this.#makeAgent()
  }

  #makeAgent() {
    const { caPem, identity } = this.#options
    return new Agent({
      keepAlive: true,
      maxSockets: 16,
      ca: caPem,
      key: identity?.keyPem,
      cert: identity?.certificatePem,
      // Without the CA (first contact) the server is checked by fingerprint below.
      rejectUnauthorized: Boolean(caPem),
      // The appliance certificate names the box's host names and addresses;
      // terminals often reach it by an address not in the list, so only the CA is checked.
      checkServerIdentity: () => undefined,
    })
  }

  /** Switches to the certificate and CA received at enrollment. */
  useIdentity(identity: ClientIdentity, caPem: string) {
    this.#agent.destroy()
    this.#options.identity = identity
    this.#options.caPem = caPem
    this.#agent = this.#makeAgent()
  }

  close() {
    this.#agent.destroy()
  }

  get<T = any>(path: string): Promise<GatewayResponse<T>> {
    return this.send<T>('GET', path)
  }

  post<T = any>(path: string, body: unknown): Promise<GatewayResponse<T>> {
    return this.send<T>('POST', path, body)
  }

  /** Sends a request and returns the answer, whatever its status. Network failures throw. */
  send<T = any>(method: string, path: string, body?: unknown): Promise<GatewayResponse<T>> {
    const url = new URL(path, this.#options.baseUrl)
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          agent: this.#agent,
          timeout: this.#options.timeoutMs ?? 10_000,
          headers: {
            accept: 'application/json',
            ...(payload
              ? { 'content-type': 'application/json', 'content-length': payload.length }
              : {}),
          },
        },
        (res) => {
          const socket = res.socket as TLSSocket
          if (!this.#options.caPem && this.#options.caFingerprint) {
            const chain = socket.getPeerCertificate(true)
            const issuer = chain.issuerCertificate
            const expected = this.#options.caFingerprint.replace(/:/g, '').toLowerCase()
            if (!issuer?.raw || fingerprintOf(issuer.raw) !== expected) {
              res.destroy()
              reject(new GatewayRequestError(0, 'server_not_trusted'))
              return
            }
          }
          const chunks: Buffer[] = []
          res.on('data', (chunk: Buffer) => chunks.push(chunk))
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8')
            let parsed: any = null
            try {
              parsed = text ? JSON.parse(text) : null
            } catch {
              parsed = { error: { code: 'invalid_json', message: text.slice(0, 200) } }
            }
            const header = res.headers['x-quad-server-time']
            resolve({
              status: res.statusCode ?? 0,
              body: parsed,
              serverTime: header ? Number(header) : null,
            })
          })
          res.on('error', reject)
        }
      )
      req.on('timeout', () => req.destroy(new Error('timeout')))
      req.on('error', reject)
      if (payload) req.write(payload)
      req.end()
    })
  }

  /** Like send, but a non-2xx answer throws GatewayRequestError with the error code. */
  async call<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.send<T>(method, path, body)
    if (response.status >= 200 && response.status < 300) return response.body
    const error = (response.body as any)?.error
    throw new GatewayRequestError(response.status, error?.code ?? 'http_error', error?.details)
  }
}

/** SHA-256 of a PEM certificate, lower-case hex: to compare with the console's CA fingerprint. */
export function pemFingerprint(pem: string): string {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('hex')
}
