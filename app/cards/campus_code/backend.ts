/**
 * The cryptography a verifier runs per code: Ed25519 signature checks and
 * SHA-256 for the code id. The library's default is WebCrypto, which every
 * browser and Node have; a verifier with a faster synchronous implementation
 * (the server's node:crypto, a terminal's native library) passes its own to
 * createIssuerKeyRing. Results must be identical: the test vectors hold for
 * every backend.
 */
import { sha256 } from './bytes.js'
import { importPublicKey, verifySignature } from './keys.js'

export interface VerifyBackend {
  /** Prepares a raw 32-byte Ed25519 public key for `verify`; throws on a malformed key. */
  importKey(raw: Uint8Array): unknown
  /** Checks a signature; a malformed key or signature is false, never an exception. */
  verify(key: unknown, signature: Uint8Array, message: Uint8Array): boolean | Promise<boolean>
  /**
   * The same check off the caller's thread, where the backend has a thread
   * pool: for a batch of codes verified together (VerifyOptions.inBackground),
   * whose checks then run in parallel while the caller goes on.
   */
  verifyInBackground?(key: unknown, signature: Uint8Array, message: Uint8Array): Promise<boolean>
  sha256(data: Uint8Array): Uint8Array | Promise<Uint8Array>
}

export const webCryptoBackend: VerifyBackend = {
  importKey: (raw) => importPublicKey(raw),
  verify: (key, signature, message) =>
    verifySignature(key as Parameters<typeof verifySignature>[0], signature, message),
  sha256: (data) => sha256(data),
}
