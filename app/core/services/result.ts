/**
 * Expected failures are values: an action returns `fail('card_frozen')`
 * and each adapter (page, JSON API, terminal, command) maps the code to its
 * own answer. Unexpected failures still throw.
 */
export type Ok<T> = { ok: true; value: T }
export type Fail<E extends string> = { ok: false; error: E; details?: Record<string, unknown> }
export type Result<T, E extends string> = Ok<T> | Fail<E>

export function ok<T>(value: T): Ok<T> {
  return { ok: true, value }
}

export function fail<E extends string>(error: E, details?: Record<string, unknown>): Fail<E> {
  return { ok: false, error, details }
}
