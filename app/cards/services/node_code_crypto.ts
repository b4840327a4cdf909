/**
 * The campus-code verification backend of Quad's own processes (web,
 * gateway, worker): node:crypto's synchronous Ed25519 and SHA-256. WebCrypto
 * hands each check to a worker thread and back; on a server verifying
 * thousands of codes a second that round trip costs more than the check.
 * A batch (a terminal's offline upload) asks for verifyInBackground: its
 * checks run on the thread pool, in parallel, while the main thread books.
 */
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto'
import type { VerifyBackend } from '#cards/campus_code/backend'
import { PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH, spkiOf } from '#cards/campus_code/keys'

export const nodeCryptoBackend: VerifyBackend = {
  importKey(raw: Uint8Array): KeyObject {
    if (raw.length !== PUBLIC_KEY_LENGTH) throw new TypeError('An Ed25519 public key has 32 bytes')
    return createPublicKey({ key: Buffer.from(spkiOf(raw)), format: 'der', type: 'spki' })
  },
  verify(key, signature, message) {
    if (signature.length !== SIGNATURE_LENGTH) return false
    try {
      return verify(null, message, key as KeyObject, signature)
    } catch {
      return false
    }
  },
  // crypto.verify with a callback runs on libuv's thread pool.
  verifyInBackground(key, signature, message) {
    if (signature.length !== SIGNATURE_LENGTH) return Promise.resolve(false)
    return new Promise((resolve) => {
      try {
        verify(null, message, key as KeyObject, signature, (error, valid) =>
          resolve(!error && valid)
        )
      } catch {
        resolve(false)
      }
    })
  },
  sha256: (data) => createHash('sha256').update(data).digest(),
}
