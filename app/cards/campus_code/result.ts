/**
 * The application's Result type, imported by relative path rather than the
 * `#core/*` alias so that the browser bundle (esbuild) and terminal builds
 * resolve it without the package's import map.
 */
export { ok, fail, type Ok, type Fail, type Result } from '../../core/services/result.js'
