/**
 * The server's issuer keys for the campus code: the key files of the storage
 * root signing credentials through WebCrypto, and `node ace issuer:rotate`
 * retiring or withdrawing keys while codes of older credentials keep (or
 * stop) verifying.
 */
import test from 'ava'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { bootTestApp, type TestApp } from '#tests/helpers/app'
import { aceEnvironment, runAce } from '#tests/helpers/ace'
import type { CredentialFields } from '#cards/campus_code/layout'

let quad: TestApp
const DAY = 86400

test.before(async () => {
  quad = await bootTestApp({ http: false })
  const { ensureIssuerKey } = await import('#appliance/services/issuer_keys')
  ensureIssuerKey()
})

test.after.always(async () => {
  await quad?.close()
})

const now = () => Math.floor(Date.now() / 1000)

async function givenDeviceWithCredential() {
  const { generateDeviceKeys } = await import('#cards/campus_code/index')
  const { signCredential } = await import('#cards/services/issuer_signing')
  const device = await generateDeviceKeys()
  const issuedAt = now() - 5
  const fields: CredentialFields = {
    cardNo: '260123456782',
    cardType: 1,
    devicePublicKey: device.publicKey,
    issuedAt,
    validFrom: issuedAt,
    validUntil: issuedAt + 7 * DAY,
    offlineLimits: { maxCountPerDay: 5, maxAmountPerDayFen: 10000, maxSingleAmountFen: 2000 },
    permissions: ['payment'],
  }
  const signed = await signCredential(fields)
  return { device, fields, ...signed }
}

async function verifyNow(text: string) {
  const { verifyCode } = await import('#cards/campus_code/index')
  const { issuerKeyRing } = await import('#cards/services/issuer_signing')
  const result = await verifyCode(text, { issuerKeys: await issuerKeyRing(), now: now() })
  return result.ok ? `ok:${result.value.issuerKid}` : result.error
}

async function codeOf(holder: Awaited<ReturnType<typeof givenDeviceWithCredential>>, counter = 1) {
  const { makeCode } = await import('#cards/campus_code/index')
  return (await makeCode(holder.credential, holder.device.privateKey, { now: now(), counter })).text
}

function issuerFile(name: string) {
  return join(quad.storage, 'keys', 'issuer', name)
}

test.serial(
  'credentials signed with the key file verify against the listed public keys',
  async (t) => {
    const { currentIssuerKid } = await import('#appliance/services/issuer_keys')
    const { currentIssuerSigningKey } = await import('#cards/services/issuer_signing')
    const holder = await givenDeviceWithCredential()
    t.is(currentIssuerKid(), holder.kid)
    t.false((await currentIssuerSigningKey()).privateKey.extractable)
    t.is(await verifyNow(await codeOf(holder)), `ok:${holder.kid}`)
  }
)

test.serial(
  'issuer:rotate makes a new key and old credentials verify until they expire',
  async (t) => {
    const { currentIssuerKid } = await import('#appliance/services/issuer_keys')
    const { currentIssuerSigningKey, issuerPublicKeyList } =
      await import('#cards/services/issuer_signing')
    const { issueCredential } = await import('#cards/campus_code/index')
    const before = await givenDeviceWithCredential()
    const oldKey = await currentIssuerSigningKey()

    const result = await runAce(['issuer:rotate'], { env: aceEnvironment(quad) })
    t.is(result.code, 0, result.output)
    const newKid = currentIssuerKid() ?? 'none'
    t.not(newKid, before.kid)
    t.true(result.output.includes(newKid), 'names the new key')
    t.true(result.output.includes(before.kid), 'names the retired key')

    t.false(existsSync(issuerFile(`${before.kid}.key`)), 'the retired private key is deleted')
    t.true(existsSync(issuerFile(`${before.kid}.pub`)), 'the retired public key stays')
    const retiredAt = Number(readFileSync(issuerFile(`${before.kid}.retired`), 'utf8'))
    t.true(Math.abs(retiredAt - now()) < 60)

    t.is(
      await verifyNow(await codeOf(before, 2)),
      `ok:${before.kid}`,
      'old credential still verifies'
    )
    const after = await givenDeviceWithCredential()
    t.is(after.kid, newKid)
    t.is(await verifyNow(await codeOf(after)), `ok:${newKid}`)

    // A copy of the old private key that kept signing after the rotation.
    const late = await issueCredential(
      { ...before.fields, issuedAt: retiredAt + 10, validFrom: retiredAt + 10 },
      oldKey.privateKey,
      oldKey.kid
    )
    t.is(await verifyNow(await codeOf({ ...before, credential: late }, 3)), 'issuer_key_retired')

    const listed = (at: number) => issuerPublicKeyList(at).map((key) => key.kid)
    t.deepEqual(listed(now()), [newKid, before.kid])
    t.deepEqual(
      listed(retiredAt + 7 * DAY + 90),
      [newKid, before.kid],
      'listed while its credentials can live'
    )
    t.deepEqual(listed(retiredAt + 7 * DAY + 91), [newKid], 'dropped once they all expired')

    const { default: AuditEntry } = await import('#core/models/audit_entry')
    const entry = await AuditEntry.query()
      .where('action', 'appliance.issuer_key_rotated')
      .firstOrFail()
    t.true(JSON.stringify(entry.after).includes(newKid))
  }
)

test.serial(
  'issuer:rotate --withdraw-previous stops accepting every older key at once',
  async (t) => {
    const { currentIssuerKid, listIssuerKeys } = await import('#appliance/services/issuer_keys')
    const before = await givenDeviceWithCredential()
    t.is(await verifyNow(await codeOf(before)), `ok:${before.kid}`)

    const result = await runAce(['issuer:rotate', '--withdraw-previous', '--json'], {
      env: aceEnvironment(quad),
    })
    t.is(result.code, 0, result.output)
    const rotation = JSON.parse(result.stdout.trim().split('\n').at(-1)!)
    t.is(rotation.kid, currentIssuerKid())
    t.is(rotation.previousKid, before.kid)
    t.true(rotation.withdrawn.includes(before.kid))

    t.deepEqual(
      listIssuerKeys().map((key) => key.kid),
      [rotation.kid]
    )
    t.true(existsSync(issuerFile(`${before.kid}.pub.withdrawn`)))
    t.is(await verifyNow(await codeOf(before, 2)), 'unknown_issuer_key')
    const after = await givenDeviceWithCredential()
    t.is(await verifyNow(await codeOf(after)), `ok:${rotation.kid}`)
  }
)
