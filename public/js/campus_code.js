// Built from app/cards/campus_code by npm run build:campus-code: do not edit.

// app/core/services/result.ts
function ok(value) {
  return { ok: true, value };
}
function fail(error, details) {
  return { ok: false, error, details };
}

// app/cards/campus_code/base45.ts
var BASE45_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
var DIGITS = new Int8Array(128).fill(-1);
for (let index = 0; index < BASE45_ALPHABET.length; index++) {
  DIGITS[BASE45_ALPHABET.charCodeAt(index)] = index;
}
function digitAt(text, position) {
  const code = text.charCodeAt(position);
  return code < 128 ? DIGITS[code] : -1;
}
function base45Encode(bytes) {
  let out = "";
  let index = 0;
  for (; index + 1 < bytes.length; index += 2) {
    let value = bytes[index] * 256 + bytes[index + 1];
    const c = value % 45;
    value = (value - c) / 45;
    const d = value % 45;
    const e = (value - d) / 45;
    out += BASE45_ALPHABET[c] + BASE45_ALPHABET[d] + BASE45_ALPHABET[e];
  }
  if (index < bytes.length) {
    const value = bytes[index];
    out += BASE45_ALPHABET[value % 45] + BASE45_ALPHABET[Math.floor(value / 45)];
  }
  return out;
}
function base45Length(byteLength) {
  return Math.floor(byteLength / 2) * 3 + byteLength % 2 * 2;
}
function base45Decode(text) {
  const length = text.length;
  if (length % 3 === 1) return fail("base45_invalid_length", { length });
  const out = new Uint8Array(Math.floor(length / 3) * 2 + (length % 3 === 2 ? 1 : 0));
  let offset = 0;
  let index = 0;
  for (; index + 3 <= length; index += 3) {
    const c = digitAt(text, index);
    const d = digitAt(text, index + 1);
    const e = digitAt(text, index + 2);
    if ((c | d | e) < 0) {
      const position = c < 0 ? index : d < 0 ? index + 1 : index + 2;
      return fail("base45_invalid_character", { position });
    }
    const value = c + d * 45 + e * 2025;
    if (value > 65535) return fail("base45_out_of_range", { position: index });
    out[offset++] = value >> 8;
    out[offset++] = value & 255;
  }
  if (index < length) {
    const c = digitAt(text, index);
    const d = digitAt(text, index + 1);
    if ((c | d) < 0) {
      return fail("base45_invalid_character", { position: c < 0 ? index : index + 1 });
    }
    const value = c + d * 45;
    if (value > 255) return fail("base45_out_of_range", { position: index });
    out[offset] = value;
  }
  return ok(out);
}

// app/cards/campus_code/bytes.ts
function concatBytes(...parts) {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
function copyBytes(bytes) {
  const out = new Uint8Array(bytes.length);
  out.set(bytes);
  return out;
}
var HEX = "0123456789abcdef";
function toHex(bytes) {
  let out = "";
  for (const byte of bytes) out += HEX[byte >> 4] + HEX[byte & 15];
  return out;
}
function fromHex(text) {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) {
    throw new TypeError("Not a hexadecimal byte string");
  }
  const out = new Uint8Array(text.length / 2);
  for (let index = 0; index < out.length; index++) {
    out[index] = Number.parseInt(text.slice(index * 2, index * 2 + 2), 16);
  }
  return out;
}
var BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
function toBase64Url(bytes) {
  let out = "";
  let index = 0;
  for (; index + 2 < bytes.length; index += 3) {
    const value = bytes[index] << 16 | bytes[index + 1] << 8 | bytes[index + 2];
    out += BASE64URL[value >> 18] + BASE64URL[value >> 12 & 63] + BASE64URL[value >> 6 & 63] + BASE64URL[value & 63];
  }
  const rest = bytes.length - index;
  if (rest === 1) {
    const value = bytes[index] << 16;
    out += BASE64URL[value >> 18] + BASE64URL[value >> 12 & 63];
  } else if (rest === 2) {
    const value = bytes[index] << 16 | bytes[index + 1] << 8;
    out += BASE64URL[value >> 18] + BASE64URL[value >> 12 & 63] + BASE64URL[value >> 6 & 63];
  }
  return out;
}
function fromBase64Url(text) {
  if (text.length % 4 === 1 || !/^[A-Za-z0-9_-]*$/.test(text)) {
    throw new TypeError("Not a base64url string");
  }
  const out = new Uint8Array(Math.floor(text.length * 3 / 4));
  let buffer = 0;
  let bits = 0;
  let offset = 0;
  for (const char of text) {
    buffer = (buffer << 6 | BASE64URL.indexOf(char)) & 65535;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[offset++] = buffer >> bits & 255;
    }
  }
  if ((buffer & (1 << bits) - 1) !== 0) throw new TypeError("Not a canonical base64url string");
  return out;
}
function asciiBytes(text) {
  const out = new Uint8Array(text.length);
  for (let index = 0; index < text.length; index++) out[index] = text.charCodeAt(index) & 127;
  return out;
}
async function sha256(data) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", copyBytes(data)));
}

// app/cards/campus_code/layout.ts
var FORMAT_MAGIC = 192;
var FORMAT_VERSION = 1;
var FORMAT_BYTE = FORMAT_MAGIC | FORMAT_VERSION;
var ISSUER_KEY_ID_LENGTH = 4;
var CREDENTIAL_BODY_LENGTH = 69;
var CREDENTIAL_LENGTH = CREDENTIAL_BODY_LENGTH + 64;
var CODE_BODY_LENGTH = CREDENTIAL_LENGTH + 6;
var CODE_LENGTH = CODE_BODY_LENGTH + 64;
var MAX_CODE_BYTES = 207;
var MAX_CREDENTIAL_LIFETIME_SECONDS = 7 * 24 * 3600;
var OFFSETS = {
  format: 0,
  issuerKeyId: 1,
  cardNo: 5,
  cardType: 13,
  devicePublicKey: 14,
  issuedAt: 46,
  validFrom: 50,
  validUntil: 54,
  maxCountPerDay: 58,
  maxAmountPerDayFen: 59,
  maxSingleAmountFen: 63,
  permissions: 67,
  issuerSignature: 69,
  codeTime: 133,
  counter: 137,
  deviceSignature: 139
};
var PERMISSION_TAGS = {
  /** Pay at POS terminals (消费). */
  payment: 0,
  /** Open doors and gates (门禁/闸机). */
  access: 1,
  /** Sign in and check in: attendance, events, enrollment (签到/报到). */
  sign_in: 2
};
var UINT32_MAX = 4294967295;
function requireInteger(name, value, max, min = 0) {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
}
var CARD_NO_BYTES = 8;
function encodeCardNo(cardNo) {
  if (!/^\d{1,16}$/.test(cardNo)) {
    throw new RangeError(`cardNo must be 1 to 16 decimal digits, got ${cardNo}`);
  }
  const nibbles = [...cardNo].map(Number);
  while (nibbles.length < CARD_NO_BYTES * 2) nibbles.push(15);
  const out = new Uint8Array(CARD_NO_BYTES);
  for (let index = 0; index < CARD_NO_BYTES; index++) {
    out[index] = nibbles[index * 2] << 4 | nibbles[index * 2 + 1];
  }
  return out;
}
function decodeCardNo(bytes) {
  let digits = "";
  let ended = false;
  for (const byte of bytes.subarray(0, CARD_NO_BYTES)) {
    for (const nibble of [byte >> 4, byte & 15]) {
      if (nibble === 15) ended = true;
      else if (nibble > 9 || ended) return null;
      else digits += String(nibble);
    }
  }
  return digits.length > 0 ? digits : null;
}
function permissionBits(tags) {
  let bits = 0;
  for (const tag of tags) {
    const bit = PERMISSION_TAGS[tag];
    if (bit === void 0) throw new RangeError(`Unknown permission tag ${tag}`);
    bits |= 1 << bit;
  }
  return bits;
}
function permissionTags(bits) {
  return Object.keys(PERMISSION_TAGS).filter(
    (tag) => bits >> PERMISSION_TAGS[tag] & 1
  );
}
function issuerKeyIdBytes(kid) {
  let bytes;
  try {
    bytes = fromBase64Url(kid);
  } catch {
    throw new RangeError(`Not an issuer key id: ${kid}`);
  }
  if (bytes.length < ISSUER_KEY_ID_LENGTH) throw new RangeError(`Not an issuer key id: ${kid}`);
  return bytes.subarray(0, ISSUER_KEY_ID_LENGTH);
}
function encodeCredentialBody(fields, issuerKeyId) {
  const cardNo = encodeCardNo(fields.cardNo);
  requireInteger("cardType", fields.cardType, 255);
  if (fields.devicePublicKey.length !== 32) throw new RangeError("devicePublicKey must be 32 bytes");
  requireInteger("issuedAt", fields.issuedAt, UINT32_MAX);
  requireInteger("validFrom", fields.validFrom, UINT32_MAX);
  requireInteger("validUntil", fields.validUntil, UINT32_MAX);
  if (fields.validUntil <= fields.validFrom) {
    throw new RangeError("validUntil must be after validFrom");
  }
  if (fields.validUntil - Math.min(fields.issuedAt, fields.validFrom) > MAX_CREDENTIAL_LIFETIME_SECONDS) {
    throw new RangeError("A credential is valid for at most 7 days");
  }
  const limits = fields.offlineLimits;
  requireInteger("offlineLimits.maxCountPerDay", limits.maxCountPerDay, 255);
  requireInteger("offlineLimits.maxAmountPerDayFen", limits.maxAmountPerDayFen, UINT32_MAX);
  requireInteger("offlineLimits.maxSingleAmountFen", limits.maxSingleAmountFen, UINT32_MAX);
  const out = new Uint8Array(CREDENTIAL_BODY_LENGTH);
  const view = new DataView(out.buffer);
  out[OFFSETS.format] = FORMAT_BYTE;
  out.set(issuerKeyId.subarray(0, ISSUER_KEY_ID_LENGTH), OFFSETS.issuerKeyId);
  out.set(cardNo, OFFSETS.cardNo);
  out[OFFSETS.cardType] = fields.cardType;
  out.set(fields.devicePublicKey, OFFSETS.devicePublicKey);
  view.setUint32(OFFSETS.issuedAt, fields.issuedAt);
  view.setUint32(OFFSETS.validFrom, fields.validFrom);
  view.setUint32(OFFSETS.validUntil, fields.validUntil);
  out[OFFSETS.maxCountPerDay] = limits.maxCountPerDay;
  view.setUint32(OFFSETS.maxAmountPerDayFen, limits.maxAmountPerDayFen);
  view.setUint32(OFFSETS.maxSingleAmountFen, limits.maxSingleAmountFen);
  view.setUint16(OFFSETS.permissions, permissionBits(fields.permissions));
  return out;
}
function checkFormat(bytes) {
  if (bytes.length === 0 || (bytes[0] & 240) !== FORMAT_MAGIC) return fail("malformed");
  if ((bytes[0] & 15) !== FORMAT_VERSION) {
    return fail("unsupported_version", { version: bytes[0] & 15 });
  }
  return ok(void 0);
}
function readCredential(bytes) {
  const cardNo = decodeCardNo(bytes.subarray(OFFSETS.cardNo, OFFSETS.cardType));
  if (cardNo === null) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, CREDENTIAL_LENGTH);
  const permissionField = view.getUint16(OFFSETS.permissions);
  return {
    version: bytes[0] & 15,
    issuerKeyId: toHex(bytes.subarray(OFFSETS.issuerKeyId, OFFSETS.cardNo)),
    cardNo,
    cardType: bytes[OFFSETS.cardType],
    devicePublicKey: bytes.slice(OFFSETS.devicePublicKey, OFFSETS.issuedAt),
    issuedAt: view.getUint32(OFFSETS.issuedAt),
    validFrom: view.getUint32(OFFSETS.validFrom),
    validUntil: view.getUint32(OFFSETS.validUntil),
    offlineLimits: {
      maxCountPerDay: bytes[OFFSETS.maxCountPerDay],
      maxAmountPerDayFen: view.getUint32(OFFSETS.maxAmountPerDayFen),
      maxSingleAmountFen: view.getUint32(OFFSETS.maxSingleAmountFen)
    },
    permissions: permissionTags(permissionField),
    permissionBits: permissionField,
    bytes: bytes.slice(0, CREDENTIAL_LENGTH)
  };
}
function decodeCredential(bytes) {
  const format = checkFormat(bytes);
  if (!format.ok) return format;
  if (bytes.length !== CREDENTIAL_LENGTH) return fail("malformed", { length: bytes.length });
  const credential = readCredential(bytes);
  if (!credential) return fail("malformed", { field: "cardNo" });
  return ok(credential);
}
function decodeCode(bytes) {
  const format = checkFormat(bytes);
  if (!format.ok) return format;
  if (bytes.length !== CODE_LENGTH) return fail("malformed", { length: bytes.length });
  const credential = readCredential(bytes);
  if (!credential) return fail("malformed", { field: "cardNo" });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  return ok({
    credential,
    codeTime: view.getUint32(OFFSETS.codeTime),
    counter: view.getUint16(OFFSETS.counter),
    bytes
  });
}
var LABELS = {
  credential: "QUAD-CC1-CRED",
  code: "QUAD-CC1-CODE",
  codeId: "QUAD-CC1-ID",
  proof: "QUAD-CC1-PROOF"
};

// app/cards/campus_code/ed25519_software.ts
var P = 2n ** 255n - 19n;
var L = 2n ** 252n + 27742317777372353535851937790883648493n;
var D = 37095705934669439343138083508754565189542113879843219016388785533085940283555n;
var D2 = 2n * D % P;
var BASE_X = 15112221349535400772501151409588531511454012693041857206046113283949847762202n;
var BASE_Y = 46316835694926478169428394003475163141307993866256225615783033603165251855960n;
var BASE = { x: BASE_X, y: BASE_Y, z: 1n, t: BASE_X * BASE_Y % P };
var IDENTITY = { x: 0n, y: 1n, z: 1n, t: 0n };
function mod(value, modulus = P) {
  const rest = value % modulus;
  return rest >= 0n ? rest : rest + modulus;
}
function power(base, exponent) {
  let result = 1n;
  let square = mod(base);
  let rest = exponent;
  while (rest > 0n) {
    if (rest & 1n) result = result * square % P;
    square = square * square % P;
    rest >>= 1n;
  }
  return result;
}
function add(p, q) {
  const a = mod((p.y - p.x) * (q.y - q.x));
  const b = mod((p.y + p.x) * (q.y + q.x));
  const c = mod(p.t * D2 * q.t);
  const d = mod(2n * p.z * q.z);
  const e = b - a;
  const f = d - c;
  const g = d + c;
  const h = b + a;
  return { x: mod(e * f), y: mod(g * h), z: mod(f * g), t: mod(e * h) };
}
function multiply(point, scalar) {
  let result = IDENTITY;
  for (let bit = 255n; bit >= 0n; bit--) {
    result = add(result, result);
    const sum = add(result, point);
    result = scalar >> bit & 1n ? sum : result;
  }
  return result;
}
function encodePoint(point) {
  const inverse = power(point.z, P - 2n);
  const x = mod(point.x * inverse);
  const y = mod(point.y * inverse);
  const out = littleEndianBytes(y);
  out[31] |= Number(x & 1n) << 7;
  return out;
}
function littleEndianBytes(value) {
  const out = new Uint8Array(32);
  let rest = value;
  for (let index = 0; index < 32; index++) {
    out[index] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return out;
}
function littleEndianNumber(bytes) {
  let value = 0n;
  for (let index = bytes.length - 1; index >= 0; index--)
    value = value << 8n | BigInt(bytes[index]);
  return value;
}
async function sha512(...parts) {
  return new Uint8Array(await crypto.subtle.digest("SHA-512", concatBytes(...parts)));
}
async function expandSeed(seed) {
  if (seed.length !== 32) throw new TypeError("An Ed25519 seed has 32 bytes");
  const hash = await sha512(seed);
  const scalarBytes = copyBytes(hash.subarray(0, 32));
  scalarBytes[0] &= 248;
  scalarBytes[31] &= 127;
  scalarBytes[31] |= 64;
  return { scalar: littleEndianNumber(scalarBytes), prefix: hash.subarray(32, 64) };
}
async function softwarePublicKey(seed) {
  const { scalar } = await expandSeed(seed);
  return encodePoint(multiply(BASE, scalar));
}
async function softwareSign(seed, message) {
  const { scalar, prefix } = await expandSeed(seed);
  const publicKey = encodePoint(multiply(BASE, scalar));
  const r = mod(littleEndianNumber(await sha512(prefix, message)), L);
  const encodedR = encodePoint(multiply(BASE, r));
  const k = mod(littleEndianNumber(await sha512(encodedR, publicKey, message)), L);
  const s = mod(r + k * scalar, L);
  return concatBytes(encodedR, littleEndianBytes(s));
}

// app/cards/campus_code/keys.ts
var ED25519 = { name: "Ed25519" };
var PUBLIC_KEY_LENGTH = 32;
var SIGNATURE_LENGTH = 64;
var SPKI_PREFIX = Uint8Array.of(
  48,
  42,
  48,
  5,
  6,
  3,
  43,
  101,
  112,
  3,
  33,
  0
);
var PKCS8_PREFIX = Uint8Array.of(
  48,
  46,
  2,
  1,
  0,
  48,
  5,
  6,
  3,
  43,
  101,
  112,
  4,
  34,
  4,
  32
);
var webCryptoSupport;
function supportsWebCryptoEd25519() {
  webCryptoSupport ??= crypto.subtle.generateKey(ED25519, false, ["sign", "verify"]).then(
    () => true,
    () => false
  );
  return webCryptoSupport;
}
function isSoftwareKey(key) {
  return key.kind === "software-ed25519";
}
async function generateDeviceKeys(options = {}) {
  const wanted = options.implementation ?? "auto";
  if (wanted !== "software" && (wanted === "webcrypto" || await supportsWebCryptoEd25519())) {
    const pair = await crypto.subtle.generateKey(ED25519, false, ["sign", "verify"]);
    return {
      privateKey: pair.privateKey,
      publicKey: await rawPublicKey(pair.publicKey),
      implementation: "webcrypto"
    };
  }
  const seed = crypto.getRandomValues(new Uint8Array(32));
  return {
    privateKey: { kind: "software-ed25519", seed },
    publicKey: await softwarePublicKey(seed),
    implementation: "software"
  };
}
async function importPrivateKeySeed(seed, extractable = false) {
  if (seed.length !== 32) throw new TypeError("An Ed25519 seed has 32 bytes");
  return crypto.subtle.importKey("pkcs8", concatBytes(PKCS8_PREFIX, seed), ED25519, extractable, [
    "sign"
  ]);
}
function publicKeyOfSeed(seed) {
  return softwarePublicKey(seed);
}
async function rawPublicKey(key) {
  if (key instanceof Uint8Array) {
    if (key.length !== PUBLIC_KEY_LENGTH) throw new TypeError("An Ed25519 public key has 32 bytes");
    return copyBytes(key);
  }
  return new Uint8Array(await crypto.subtle.exportKey("raw", key));
}
async function importPublicKey(key) {
  if (!(key instanceof Uint8Array)) return key;
  if (key.length !== PUBLIC_KEY_LENGTH) throw new TypeError("An Ed25519 public key has 32 bytes");
  return crypto.subtle.importKey("raw", copyBytes(key), ED25519, true, ["verify"]);
}
async function signMessage(key, message) {
  if (isSoftwareKey(key)) return softwareSign(key.seed, message);
  return new Uint8Array(await crypto.subtle.sign(ED25519, key, copyBytes(message)));
}
async function verifySignature(key, signature, message) {
  if (signature.length !== SIGNATURE_LENGTH) return false;
  try {
    const publicKey = await importPublicKey(key);
    return await crypto.subtle.verify(ED25519, publicKey, copyBytes(signature), copyBytes(message));
  } catch {
    return false;
  }
}
function spkiOf(raw) {
  return concatBytes(SPKI_PREFIX, raw);
}
async function issuerKeyIdOf(key) {
  const digest = await sha256(spkiOf(await rawPublicKey(key)));
  return toBase64Url(digest.subarray(0, 8));
}
var PROOF_LABEL = asciiBytes(LABELS.proof);
function proveDeviceKey(privateKey, challenge) {
  return signMessage(privateKey, concatBytes(PROOF_LABEL, challenge));
}
function verifyDeviceKeyProof(publicKey, challenge, proof) {
  return verifySignature(publicKey, proof, concatBytes(PROOF_LABEL, challenge));
}

// app/cards/campus_code/credential.ts
var CREDENTIAL_LABEL = asciiBytes(LABELS.credential);
function credentialSigningInput(body) {
  return concatBytes(CREDENTIAL_LABEL, body.subarray(0, CREDENTIAL_BODY_LENGTH));
}
async function issueCredential(fields, issuerPrivateKey, kid) {
  const body = encodeCredentialBody(fields, issuerKeyIdBytes(kid));
  const signature = await signMessage(issuerPrivateKey, credentialSigningInput(body));
  return concatBytes(body, signature);
}
var DEFAULT_RENEW_AFTER_SECONDS = 3600;
function credentialNeedsRenewal(credential, options = {}) {
  const decoded = credential instanceof Uint8Array ? decodeCredential(credential) : null;
  if (decoded && !decoded.ok) return true;
  const value = decoded ? decoded.value : credential;
  const now = options.now ?? Math.floor(Date.now() / 1e3);
  const renewAfter = options.renewAfterSeconds ?? DEFAULT_RENEW_AFTER_SECONDS;
  if (options.devicePublicKey) {
    const key = options.devicePublicKey;
    const same = key.length === value.devicePublicKey.length && key.every((byte, index) => byte === value.devicePublicKey[index]);
    if (!same) return true;
  }
  return now - value.issuedAt >= renewAfter || now >= value.validUntil;
}

// app/cards/campus_code/code.ts
var DEFAULT_CODE_REFRESH_SECONDS = 30;
var CODE_LABEL = asciiBytes(LABELS.code);
var CODE_ID_LABEL = asciiBytes(LABELS.codeId);
function codeSigningInput(body) {
  return concatBytes(CODE_LABEL, body.subarray(0, CODE_BODY_LENGTH));
}
async function makeCode(credential, devicePrivateKey, options) {
  const bytes = credential instanceof Uint8Array ? credential : credential.bytes;
  const decoded = decodeCredential(bytes);
  if (!decoded.ok) throw new TypeError(`Not a credential (${decoded.error})`);
  const codeTime = options.now ?? Math.floor(Date.now() / 1e3);
  if (!Number.isInteger(codeTime) || codeTime < 0 || codeTime > 4294967295) {
    throw new RangeError(`now must be whole Unix seconds, got ${codeTime}`);
  }
  if (!Number.isInteger(options.counter) || options.counter < 0 || options.counter > 65535) {
    throw new RangeError(`counter must be an integer from 0 to 65535, got ${options.counter}`);
  }
  const body = new Uint8Array(CODE_BODY_LENGTH);
  body.set(bytes.subarray(0, CREDENTIAL_LENGTH));
  const view = new DataView(body.buffer);
  view.setUint32(OFFSETS.codeTime, codeTime);
  view.setUint16(OFFSETS.counter, options.counter);
  const signature = await signMessage(devicePrivateKey, codeSigningInput(body));
  const code = concatBytes(body, signature);
  return { text: base45Encode(code), bytes: code, codeTime, counter: options.counter };
}
async function codeIdOf(devicePublicKey, codeTime, counter, digest = sha256) {
  const tail = new Uint8Array(6);
  const view = new DataView(tail.buffer);
  view.setUint32(0, codeTime);
  view.setUint16(4, counter);
  const hash = await digest(concatBytes(CODE_ID_LABEL, devicePublicKey, tail));
  return toHex(hash.subarray(0, 16));
}

// app/cards/campus_code/backend.ts
var webCryptoBackend = {
  importKey: (raw) => importPublicKey(raw),
  verify: (key, signature, message) => verifySignature(key, signature, message),
  sha256: (data) => sha256(data)
};

// app/cards/campus_code/verify.ts
var DEFAULT_CLOCK_SKEW_SECONDS = 90;
var DEFAULT_CODE_LIFETIME_SECONDS = 60;
var VERIFY_ERRORS = [
  "malformed",
  "unsupported_version",
  "unknown_issuer_key",
  "bad_issuer_signature",
  "issuer_key_retired",
  "credential_invalid",
  "bad_device_signature",
  "credential_not_yet_valid",
  "credential_expired",
  "code_from_future",
  "code_expired",
  "card_blacklisted",
  "code_replayed"
];
var CHECKED_CREDENTIALS_LIMIT = 5e4;
var IssuerKeyRing = class {
  #byCodeKeyId = /* @__PURE__ */ new Map();
  /**
   * Credentials this ring has already checked, keyed by their exact bytes
   * (body and issuer signature). A phone shows a new code every 30 s under
   * the same credential for days, so a verifier sees each credential many
   * times: remembering it leaves one signature check per code (the
   * device's). A ring is rebuilt when its keys change, which forgets all.
   */
  #checked = /* @__PURE__ */ new Map();
  /** How this ring's verifications are computed. */
  backend;
  constructor(keys, backend = webCryptoBackend) {
    this.backend = backend;
    for (const key of keys) {
      const same = this.#byCodeKeyId.get(key.codeKeyId) ?? [];
      same.push(key);
      this.#byCodeKeyId.set(key.codeKeyId, same);
    }
  }
  get keys() {
    return [...this.#byCodeKeyId.values()].flat();
  }
  /**
   * Keys whose id starts with these 4 bytes. Two keys sharing 4 bytes is
   * unlikely (1 in 4 billion per pair) but harmless: each is tried.
   */
  candidates(codeKeyId) {
    return this.#byCodeKeyId.get(codeKeyId) ?? [];
  }
  checkedCredential(bytes) {
    return this.#checked.get(toHex(bytes));
  }
  rememberCredential(bytes, checked) {
    if (this.#checked.size >= CHECKED_CREDENTIALS_LIMIT) {
      this.#checked.delete(this.#checked.keys().next().value);
    }
    this.#checked.set(toHex(bytes), checked);
  }
};
function isEntry(input) {
  return !(input instanceof Uint8Array) && "publicKey" in input;
}
async function createIssuerKeyRing(keys, options = {}) {
  const backend = options.backend ?? webCryptoBackend;
  const named = keys instanceof Map ? [...keys.entries()] : [...keys].map((entry) => [null, entry]);
  const ring = [];
  for (const [name, input] of named) {
    const entry = isEntry(input) ? input : { publicKey: input };
    const publicKey = await rawPublicKey(entry.publicKey);
    const kid = await issuerKeyIdOf(publicKey);
    if (name !== null && name !== kid) {
      throw new Error(`Issuer key listed as ${name} has key id ${kid}`);
    }
    ring.push({
      kid,
      codeKeyId: toHex(fromBase64Url(kid).subarray(0, ISSUER_KEY_ID_LENGTH)),
      publicKey,
      retiredAt: entry.retiredAt ?? null,
      cryptoKey: await backend.importKey(publicKey)
    });
  }
  return new IssuerKeyRing(ring, backend);
}
function verificationWindow(options) {
  const clockSkewSeconds = options.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  const codeLifetimeSeconds = options.codeLifetimeSeconds ?? DEFAULT_CODE_LIFETIME_SECONDS;
  for (const [name, value] of Object.entries({ clockSkewSeconds, codeLifetimeSeconds })) {
    if (!Number.isInteger(value) || value < 0) {
      throw new RangeError(`${name} must be a whole number of seconds, got ${value}`);
    }
  }
  return { clockSkewSeconds, codeLifetimeSeconds };
}
var MAX_TEXT_LENGTH = 1024;
async function verifyCode(text, options) {
  if (typeof text !== "string" || text.length > MAX_TEXT_LENGTH) return fail("malformed");
  const decoded = base45Decode(text);
  if (!decoded.ok) return fail("malformed", { reason: decoded.error });
  return verifyCodeBytes(decoded.value, options);
}
async function verifyCodeBytes(bytes, options) {
  const { clockSkewSeconds, codeLifetimeSeconds } = verificationWindow(options);
  const now = options.now ?? Math.floor(Date.now() / 1e3);
  const parsed = decodeCode(bytes);
  if (!parsed.ok) return parsed;
  const { credential, codeTime, counter } = parsed.value;
  const ring = options.issuerKeys instanceof IssuerKeyRing ? options.issuerKeys : await createIssuerKeyRing(options.issuerKeys);
  const candidates = ring.candidates(credential.issuerKeyId);
  if (candidates.length === 0) {
    return fail("unknown_issuer_key", { issuerKeyId: credential.issuerKeyId });
  }
  const { backend } = ring;
  const checkSignature = options.inBackground && backend.verifyInBackground ? (key, signature, message) => backend.verifyInBackground(key, signature, message) : (key, signature, message) => backend.verify(key, signature, message);
  const credentialBytes = bytes.subarray(0, CREDENTIAL_LENGTH);
  let checked = ring.checkedCredential(credentialBytes);
  if (!checked) {
    const issuerSignature = bytes.subarray(OFFSETS.issuerSignature, CREDENTIAL_LENGTH);
    const signedCredential = credentialSigningInput(bytes.subarray(0, CREDENTIAL_BODY_LENGTH));
    let signer;
    for (const candidate of candidates) {
      if (await checkSignature(candidate.cryptoKey, issuerSignature, signedCredential)) {
        signer = candidate;
        break;
      }
    }
    if (!signer) return fail("bad_issuer_signature");
    let deviceKey;
    try {
      deviceKey = await backend.importKey(credential.devicePublicKey);
    } catch {
      return fail("bad_device_signature");
    }
    checked = { issuer: signer, deviceKey };
    ring.rememberCredential(credentialBytes, checked);
  }
  const issuer = checked.issuer;
  if (issuer.retiredAt !== null && credential.issuedAt > issuer.retiredAt) {
    return fail("issuer_key_retired", { kid: issuer.kid });
  }
  const start = Math.min(credential.issuedAt, credential.validFrom);
  if (credential.validUntil <= credential.validFrom || credential.validUntil - start > MAX_CREDENTIAL_LIFETIME_SECONDS) {
    return fail("credential_invalid");
  }
  const deviceSignature = bytes.subarray(OFFSETS.deviceSignature, CODE_LENGTH);
  const signedCode = codeSigningInput(bytes.subarray(0, OFFSETS.deviceSignature));
  if (!await checkSignature(checked.deviceKey, deviceSignature, signedCode)) {
    return fail("bad_device_signature");
  }
  if (now + clockSkewSeconds < credential.validFrom) {
    return fail("credential_not_yet_valid", { validFrom: credential.validFrom });
  }
  if (now - clockSkewSeconds >= credential.validUntil) {
    return fail("credential_expired", { validUntil: credential.validUntil });
  }
  if (codeTime > now + clockSkewSeconds) return fail("code_from_future", { codeTime });
  const acceptUntil = codeTime + codeLifetimeSeconds + clockSkewSeconds;
  if (now > acceptUntil) return fail("code_expired", { codeTime });
  if (options.isBlacklisted && await options.isBlacklisted(credential)) {
    return fail("card_blacklisted", { cardNo: credential.cardNo });
  }
  return ok({
    cardNo: credential.cardNo,
    cardType: credential.cardType,
    permissions: credential.permissions,
    offlineLimits: credential.offlineLimits,
    credential,
    issuerKid: issuer.kid,
    codeTime,
    counter,
    codeId: await codeIdOf(credential.devicePublicKey, codeTime, counter, backend.sha256),
    acceptUntil
  });
}
async function acceptCode(text, options) {
  const verified = await verifyCode(text, options);
  if (!verified.ok) return verified;
  const now = options.now ?? Math.floor(Date.now() / 1e3);
  const claim = await options.replayGuard.claim(verified.value, now);
  if (!claim.ok) {
    return fail("code_replayed", { cardNo: verified.value.cardNo, codeId: verified.value.codeId });
  }
  return verified;
}
function blacklistOf(lists) {
  const cards = new Set(lists.cardNos ?? []);
  const devices = new Set([...lists.devicePublicKeys ?? []].map((key) => key.toLowerCase()));
  return (credential) => cards.has(credential.cardNo) || devices.has(toHex(credential.devicePublicKey));
}

// app/cards/campus_code/replay.ts
var MemoryReplayGuard = class {
  #claims = /* @__PURE__ */ new Map();
  #maxEntries;
  #nextSweep = 0;
  constructor(options = {}) {
    this.#maxEntries = options.maxEntries ?? 1e5;
    if (!Number.isInteger(this.#maxEntries) || this.#maxEntries < 1) {
      throw new RangeError("maxEntries must be a positive integer");
    }
  }
  get size() {
    return this.#claims.size;
  }
  async claim(code, now) {
    this.#sweep(now);
    const until = this.#claims.get(code.codeId);
    if (until !== void 0 && until >= now) return fail("code_replayed");
    this.#claims.delete(code.codeId);
    while (this.#claims.size >= this.#maxEntries) {
      const oldest = this.#claims.keys().next().value;
      this.#claims.delete(oldest);
    }
    this.#claims.set(code.codeId, code.acceptUntil);
    return ok(void 0);
  }
  /** Drops expired claims, at most once a second and whenever the guard is full. */
  #sweep(now) {
    if (now < this.#nextSweep && this.#claims.size < this.#maxEntries) return;
    for (const [codeId, until] of this.#claims) if (until < now) this.#claims.delete(codeId);
    this.#nextSweep = now + 1;
  }
};
var DEFAULT_REPLAY_FREEZE_POLICY = {
  maxReplays: 3,
  windowSeconds: 10 * 60
};
function replaysReachFreeze(replayTimes, now, policy = DEFAULT_REPLAY_FREEZE_POLICY) {
  let recent = 0;
  for (const time of replayTimes) if (time > now - policy.windowSeconds && time <= now) recent++;
  return recent >= policy.maxReplays;
}

// app/cards/campus_code/qr.ts
var QR_PARAMETERS = {
  mode: "alphanumeric",
  errorCorrectionLevel: "M",
  /** 305 characters need version 10 (57 × 57 modules); the format never needs more. */
  maxVersion: 10,
  /** The light border the QR standard requires on every side. */
  quietZoneModules: 4
};
export {
  BASE45_ALPHABET,
  CODE_LENGTH,
  CREDENTIAL_LENGTH,
  DEFAULT_CLOCK_SKEW_SECONDS,
  DEFAULT_CODE_LIFETIME_SECONDS,
  DEFAULT_CODE_REFRESH_SECONDS,
  DEFAULT_RENEW_AFTER_SECONDS,
  DEFAULT_REPLAY_FREEZE_POLICY,
  FORMAT_BYTE,
  FORMAT_VERSION,
  IssuerKeyRing,
  LABELS,
  MAX_CODE_BYTES,
  MAX_CREDENTIAL_LIFETIME_SECONDS,
  MemoryReplayGuard,
  OFFSETS,
  PERMISSION_TAGS,
  QR_PARAMETERS,
  VERIFY_ERRORS,
  acceptCode,
  base45Decode,
  base45Encode,
  base45Length,
  blacklistOf,
  codeIdOf,
  createIssuerKeyRing,
  credentialNeedsRenewal,
  decodeCode,
  decodeCredential,
  fromBase64Url,
  fromHex,
  generateDeviceKeys,
  importPrivateKeySeed,
  importPublicKey,
  issueCredential,
  issuerKeyIdOf,
  makeCode,
  permissionBits,
  permissionTags,
  proveDeviceKey,
  publicKeyOfSeed,
  rawPublicKey,
  replaysReachFreeze,
  supportsWebCryptoEd25519,
  toBase64Url,
  toHex,
  verificationWindow,
  verifyCode,
  verifyCodeBytes,
  verifyDeviceKeyProof,
  webCryptoBackend
};
