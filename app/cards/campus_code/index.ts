/**
 * The campus-code library: one implementation of the format in
 * docs/campus-code.md for the server, the terminal gateway, the terminal
 * simulator and the portal (public/js/campus_code.js is this file bundled).
 * It uses WebCrypto and typed arrays only, never Node modules.
 */
export { base45Decode, base45Encode, base45Length, BASE45_ALPHABET } from './base45.js'
export type { Base45Error } from './base45.js'
export { fromBase64Url, fromHex, toBase64Url, toHex } from './bytes.js'
export {
  CODE_LENGTH,
  CREDENTIAL_LENGTH,
  decodeCode,
  decodeCredential,
  FORMAT_BYTE,
  FORMAT_VERSION,
  LABELS,
  MAX_CODE_BYTES,
  MAX_CREDENTIAL_LIFETIME_SECONDS,
  OFFSETS,
  PERMISSION_TAGS,
  permissionBits,
  permissionTags,
} from './layout.js'
export type {
  Credential,
  CredentialFields,
  DecodedCode,
  OfflineLimits,
  PermissionTag,
} from './layout.js'
export {
  generateDeviceKeys,
  importPrivateKeySeed,
  importPublicKey,
  issuerKeyIdOf,
  proveDeviceKey,
  publicKeyOfSeed,
  rawPublicKey,
  supportsWebCryptoEd25519,
  verifyDeviceKeyProof,
} from './keys.js'
export type {
  DeviceKeys,
  PublicKeyInput,
  SigningKey,
  SoftwareDeviceKey,
  WebCryptoKey,
} from './keys.js'
export {
  credentialNeedsRenewal,
  DEFAULT_RENEW_AFTER_SECONDS,
  issueCredential,
} from './credential.js'
export { codeIdOf, DEFAULT_CODE_REFRESH_SECONDS, makeCode } from './code.js'
export type { MadeCode } from './code.js'
export {
  acceptCode,
  blacklistOf,
  createIssuerKeyRing,
  DEFAULT_CLOCK_SKEW_SECONDS,
  DEFAULT_CODE_LIFETIME_SECONDS,
  IssuerKeyRing,
  VERIFY_ERRORS,
  verificationWindow,
  verifyCode,
  verifyCodeBytes,
} from './verify.js'
export type {
  AcceptError,
  IssuerKey,
  IssuerKeyEntry,
  IssuerKeyInput,
  VerifiedCode,
  VerifyError,
  VerifyOptions,
} from './verify.js'
export { DEFAULT_REPLAY_FREEZE_POLICY, MemoryReplayGuard, replaysReachFreeze } from './replay.js'
export type { ReplayClaim, ReplayFreezePolicy, ReplayGuard } from './replay.js'
export { QR_PARAMETERS } from './qr.js'
export { webCryptoBackend } from './backend.js'
export type { VerifyBackend } from './backend.js'
