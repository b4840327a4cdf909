/**
 * The part of oidc-provider (which ships no type declarations) that Quad
 * uses. Koa contexts stay loosely typed: only the provider reads them.
 */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http'
  import type { EventEmitter } from 'node:events'

  export type UnknownObject = Record<string, any>

  export interface AdapterPayload extends UnknownObject {
    jti?: string
    kind?: string
    grantId?: string
    uid?: string
    userCode?: string
    accountId?: string
    consumed?: unknown
    exp?: number
  }

  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void>
    find(id: string): Promise<AdapterPayload | undefined>
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>
    findByUid(uid: string): Promise<AdapterPayload | undefined>
    consume(id: string): Promise<void>
    destroy(id: string): Promise<void>
    revokeByGrantId(grantId: string): Promise<void>
  }

  export interface Account {
    accountId: string
    claims(
      use: 'id_token' | 'userinfo',
      scope: string,
      claims: UnknownObject,
      rejected: string[]
    ): Promise<UnknownObject> | UnknownObject
  }

  /** The Koa context, with the provider's `oidc` member. */
  export type KoaContextWithOIDC = any

  export interface Grant {
    jti: string
    accountId: string
    clientId: string
    addOIDCScope(scope: string): void
    addOIDCClaims(claims: string[]): void
    addResourceScope(indicator: string, scope: string): void
    getOIDCScope(): string
    save(): Promise<string>
    destroy(): Promise<void>
  }

  export interface GrantConstructor {
    new (properties: { accountId: string; clientId: string }): Grant
    find(id: string): Promise<Grant | undefined>
  }

  export interface Interaction {
    uid: string
    returnTo: string
    prompt: { name: string; reasons: string[]; details: UnknownObject }
    params: UnknownObject
    session?: { uid?: string; accountId?: string; cookie?: string }
    grantId?: string
    deviceCode?: string
    lastSubmission?: UnknownObject
    exp: number
  }

  export interface ClientConstructor {
    prototype: { compareClientSecret(actual: string): boolean | Promise<boolean> }
    find(id: string): Promise<UnknownObject | undefined>
  }

  export class Provider extends EventEmitter {
    constructor(issuer: string, configuration: UnknownObject)
    readonly issuer: string
    keys: string[]
    proxy: boolean
    silent: boolean
    readonly Grant: GrantConstructor
    readonly Client: ClientConstructor
    readonly Session: { findByUid(uid: string): Promise<UnknownObject | undefined> }
    callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void>
    /** Adds Koa middleware that runs before the provider's routes. */
    use(middleware: (ctx: KoaContextWithOIDC, next: () => Promise<void>) => unknown): this
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>
    interactionResult(
      req: IncomingMessage,
      res: ServerResponse,
      result: UnknownObject,
      options?: { mergeWithLastSubmission?: boolean }
    ): Promise<string>
    static get ctx(): KoaContextWithOIDC | undefined
  }

  export namespace errors {
    class OIDCProviderError extends Error {
      constructor(message?: string, description?: string)
      error: string
      error_description?: string
      status: number
    }
    class AccessDenied extends OIDCProviderError {}
    class InvalidGrant extends OIDCProviderError {}
    class InvalidRequestUri extends OIDCProviderError {}
    class InvalidRequest extends OIDCProviderError {}
    class SessionNotFound extends OIDCProviderError {}
  }

  export namespace interactionPolicy {
    class Check {
      constructor(
        reason: string,
        description: string,
        check: (ctx: KoaContextWithOIDC) => boolean | Promise<boolean>
      )
      constructor(
        reason: string,
        description: string,
        error: string,
        check: (ctx: KoaContextWithOIDC) => boolean | Promise<boolean>
      )
      static REQUEST_PROMPT: true
      static NO_NEED_TO_PROMPT: false
    }
    interface Prompt {
      name: string
      checks: Check[] & { add(check: Check, index?: number): void }
    }
    interface Policy extends Array<Prompt> {
      get(name: string): Prompt | undefined
    }
    function base(): Policy
  }

  export default Provider
}
