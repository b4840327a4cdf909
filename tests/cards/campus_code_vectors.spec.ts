/**
 * The published test vectors and the browser bundle stay true to the
 * library: docs/campus-code-vectors.json is what the library produces, each
 * vector's outcome is the one its name promises, the spec quotes the main
 * vector, and public/js/campus_code.js is the current source bundled.
 */
import test from 'ava'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildVectors, runVectorCase, type CampusCodeVectors } from '#cards/campus_code/vectors'
import {
  acceptCode,
  createIssuerKeyRing,
  decodeCode,
  fromHex,
  MemoryReplayGuard,
  VERIFY_ERRORS,
} from '#cards/campus_code/index'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const published = JSON.parse(
  readFileSync(join(ROOT, 'docs/campus-code-vectors.json'), 'utf8')
) as CampusCodeVectors

/** What each vector must come to, written out here rather than taken from the library. */
const PROMISED: Record<string, string> = {
  valid: 'ok',
  valid_last_second: 'ok',
  valid_verifier_clock_behind: 'ok',
  valid_after_rotation: 'ok',
  valid_new_issuer_key: 'ok',
  code_expired: 'code_expired',
  code_from_future: 'code_from_future',
  credential_not_yet_valid: 'credential_not_yet_valid',
  credential_expired: 'credential_expired',
  bad_issuer_signature: 'bad_issuer_signature',
  bad_device_signature: 'bad_device_signature',
  unknown_issuer_key: 'unknown_issuer_key',
  issuer_key_retired: 'issuer_key_retired',
  credential_invalid: 'credential_invalid',
  card_blacklisted: 'card_blacklisted',
  device_blacklisted: 'card_blacklisted',
  malformed_character: 'malformed',
  malformed_text_length: 'malformed',
  malformed_byte_length: 'malformed',
  malformed_not_a_campus_code: 'malformed',
  unsupported_version: 'unsupported_version',
}

test('the published vectors are exactly what the library produces', async (t) => {
  t.deepEqual(published, JSON.parse(JSON.stringify(await buildVectors())))
})

test('every published vector comes to the outcome its name promises', async (t) => {
  t.deepEqual(published.cases.map((vector) => vector.name).sort(), Object.keys(PROMISED).sort())
  for (const vector of published.cases) {
    const outcome = await runVectorCase(vector)
    t.is(outcome.ok ? 'ok' : outcome.error, PROMISED[vector.name], vector.name)
    t.deepEqual(outcome, vector.expect, vector.name)
  }
})

test('the node:crypto backend of the server comes to the same outcome as WebCrypto on every vector', async (t) => {
  const { nodeCryptoBackend } = await import('#cards/services/node_code_crypto')
  for (const vector of published.cases) {
    t.deepEqual(
      await runVectorCase(vector, { backend: nodeCryptoBackend }),
      vector.expect,
      vector.name
    )
    // Checked on the thread pool, as an offline upload checks its records.
    t.deepEqual(
      await runVectorCase(vector, { backend: nodeCryptoBackend, inBackground: true }),
      vector.expect,
      `${vector.name} (in background)`
    )
  }
})

test('every refusal a verifier can give has a vector or the replay vector', (t) => {
  const covered = new Set([...Object.values(PROMISED), ...published.replay.expect])
  for (const error of VERIFY_ERRORS) t.true(covered.has(error), error)
})

test('the replay vector is refused the second time', async (t) => {
  const issuer = published.keys.issuer
  const ring = await createIssuerKeyRing([{ publicKey: fromHex(issuer.publicKey) }])
  const guard = new MemoryReplayGuard()
  const outcomes: string[] = []
  for (const text of published.replay.texts) {
    const result = await acceptCode(text, {
      issuerKeys: ring,
      now: published.replay.now,
      replayGuard: guard,
    })
    outcomes.push(result.ok ? 'ok' : result.error)
  }
  t.deepEqual(outcomes, published.replay.expect)
})

test('the main vector decodes to the published fields', (t) => {
  const decoded = decodeCode(fromHex(published.code.hex))
  if (!decoded.ok) return t.fail(decoded.error)
  const fields = published.credential.fields
  t.is(decoded.value.credential.cardNo, fields.cardNo)
  t.is(decoded.value.credential.validUntil, fields.validUntil)
  t.is(decoded.value.codeTime, published.code.codeTime)
  t.is(decoded.value.counter, published.code.counter)
  t.true(published.code.hex.startsWith(published.credential.hex))
})

test('the specification quotes the main vector as published', (t) => {
  const spec = readFileSync(join(ROOT, 'docs/campus-code.md'), 'utf8')
  const unwrapped = spec.replace(/\s*\n\s*/g, '')
  t.true(spec.includes('campus-code-vectors.json'))
  t.true(spec.includes(published.code.text), 'the Base45 text, on one line')
  t.true(unwrapped.includes(published.code.hex), 'the code bytes')
  t.true(spec.includes(published.code.codeId), 'the code id')
  t.true(spec.includes(published.keys.issuer.kid), 'the issuer key id')
  t.true(spec.includes(published.keys.issuer.publicKey), 'the issuer public key')
  t.true(spec.includes(published.keys.device.publicKey), 'the device public key')
})

test('the committed browser bundle is the current library source', (t) => {
  const scripts = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts as Record<
    string,
    string
  >
  const script = scripts['build:campus-code']
  t.truthy(script, 'package.json has the build:campus-code script')
  const scratch = mkdtempSync(join(tmpdir(), 'quad-campus-code-'))
  try {
    const outfile = join(scratch, 'campus_code.js')
    const rebuilt = script.replace('--outfile=public/js/campus_code.js', `--outfile=${outfile}`)
    t.not(rebuilt, script, 'the script writes public/js/campus_code.js')
    const run = spawnSync(
      'sh',
      ['-c', rebuilt.replace(/^esbuild /, 'node_modules/.bin/esbuild ')],
      {
        cwd: ROOT,
        encoding: 'utf8',
      }
    )
    t.is(run.status, 0, run.stderr)
    t.is(
      readFileSync(join(ROOT, 'public/js/campus_code.js'), 'utf8'),
      readFileSync(outfile, 'utf8'),
      'run npm run build:campus-code and commit public/js/campus_code.js'
    )
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
})
