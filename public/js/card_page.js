// The portal's card page (/portal/card): activation on this phone, credential
// renewal, and a fresh campus code every 30 s made here with the device key,
// with or without a network (docs/campus-code.md §11). The device private key
// is a non-extractable WebCrypto Ed25519 key kept in IndexedDB (the library's
// software signer only where WebCrypto lacks Ed25519). The service worker
// /card-sw.js keeps this page and its scripts for use offline.
import * as cc from './campus_code.js'
import qr from './qr_encoder.js'

const root = document.querySelector('[data-card-page]')
const panel = root && root.querySelector('[data-code-panel]')

const DB_NAME = 'quad-card'
const STORE = 'devices'

function database() {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(DB_NAME, 1)
    open.onupgradeneeded = () => open.result.createObjectStore(STORE)
    open.onsuccess = () => resolve(open.result)
    open.onerror = () => reject(open.error)
  })
}

async function stored(mode, work) {
  const db = await database()
  return new Promise((resolve, reject) => {
    const request = work(db.transaction(STORE, mode).objectStore(STORE))
    request.onsuccess = () => resolve(request.result)
    request.onerror = () => reject(request.error)
  })
}

const loadRecord = (card) => stored('readonly', (store) => store.get(card))
const saveRecord = (card, record) => stored('readwrite', (store) => store.put(record, card))
const dropRecord = (card) => stored('readwrite', (store) => store.delete(card))

/** The service worker and the web manifest: the page opens and works offline. */
function installOffline() {
  if (!document.querySelector('link[rel=manifest]')) {
    const link = document.createElement('link')
    link.rel = 'manifest'
    link.href = '/card.webmanifest'
    document.head.append(link)
  }
  if (!('serviceWorker' in navigator)) return
  navigator.serviceWorker
    .register('/card-sw.js', { scope: '/portal/card' })
    .then(() => navigator.serviceWorker.ready)
    .then((registration) => {
      // What this page loaded before the worker ran: the worker keeps a copy.
      const urls = [location.pathname]
      for (const entry of performance.getEntriesByType('resource')) {
        const url = new URL(entry.name)
        if (url.origin === location.origin) urls.push(url.pathname + url.search)
      }
      for (const element of document.querySelectorAll('script[src], link[rel=stylesheet]')) {
        const url = new URL(element.src || element.href)
        if (url.origin === location.origin) urls.push(url.pathname + url.search)
      }
      if (registration.active) registration.active.postMessage({ type: 'keep', urls })
    })
    .catch(() => {})
}

installOffline()

if (root && panel) {
  const card = root.getAttribute('data-card')
  const csrf = root.getAttribute('data-csrf') || ''
  let refreshSeconds = Number(root.getAttribute('data-refresh')) || cc.DEFAULT_CODE_REFRESH_SECONDS
  const canvas = panel.querySelector('[data-code-canvas]')
  const status = panel.querySelector('[data-code-status]')
  const activateButton = panel.querySelector('[data-code-activate]')
  const refreshButton = panel.querySelector('[data-code-refresh]')

  let record = null
  let timer = null
  let nextAt = 0
  let busy = false

  const text = (name, values = {}) =>
    (status.getAttribute(`data-text-${name}`) || '').replace(/\{(\w+)\}/g, (_, key) =>
      String(values[key] ?? '')
    )

  function say(name, values) {
    status.textContent = text(name, values)
    panel.setAttribute('data-code-state', name)
  }

  function stop() {
    if (timer) window.clearInterval(timer)
    timer = null
  }

  function hideCode() {
    canvas.hidden = true
    panel.removeAttribute('data-code-text')
    refreshButton.hidden = true
  }

  function showActivate(reason) {
    stop()
    hideCode()
    activateButton.hidden = !navigator.onLine
    say(navigator.onLine ? reason : 'error')
  }

  /** Draws the QR code: alphanumeric, level M, version 10, whole device pixels per module. */
  function draw(codeText) {
    const symbol = qr.create([{ data: codeText, mode: 'alphanumeric' }], {
      errorCorrectionLevel: 'M',
      version: 10,
    })
    const size = symbol.modules.size
    const quiet = 4
    const total = size + quiet * 2
    const ratio = window.devicePixelRatio || 1
    const cssWidth = Math.min(300, Math.max(220, panel.clientWidth - 48))
    const scale = Math.max(4, Math.floor((cssWidth * ratio) / total))
    canvas.width = total * scale
    canvas.height = total * scale
    canvas.style.width = `${(total * scale) / ratio}px`
    canvas.style.height = `${(total * scale) / ratio}px`
    const context = canvas.getContext('2d')
    context.imageSmoothingEnabled = false
    context.fillStyle = '#ffffff'
    context.fillRect(0, 0, canvas.width, canvas.height)
    context.fillStyle = '#000000'
    for (let row = 0; row < size; row++) {
      for (let col = 0; col < size; col++) {
        if (symbol.modules.get(row, col)) {
          context.fillRect((col + quiet) * scale, (row + quiet) * scale, scale, scale)
        }
      }
    }
    canvas.hidden = false
  }

  const nowSeconds = () => Math.floor((Date.now() + (record ? record.clockOffsetMs : 0)) / 1000)

  async function showCode() {
    if (!record) return
    const now = nowSeconds()
    if (now >= record.validUntil) {
      stop()
      hideCode()
      say('expired')
      refreshButton.hidden = !navigator.onLine
      return
    }
    record.counter = (record.counter + 1) & 0xffff
    await saveRecord(card, record)
    const made = await cc.makeCode(cc.fromBase64Url(record.credential), record.privateKey, {
      now,
      counter: record.counter,
    })
    draw(made.text)
    panel.setAttribute('data-code-text', made.text)
    panel.setAttribute('data-code-time', String(made.codeTime))
    refreshButton.hidden = false
    activateButton.hidden = true
    nextAt = Date.now() + refreshSeconds * 1000
    tick()
  }

  function tick() {
    const left = Math.max(0, Math.ceil((nextAt - Date.now()) / 1000))
    if (left === 0) {
      showCode().catch(() => say('error'))
      return
    }
    say(navigator.onLine ? 'countdown' : 'offline', { seconds: left })
    if (!navigator.onLine) status.textContent += ` · ${text('countdown', { seconds: left })}`
  }

  function run() {
    stop()
    timer = window.setInterval(tick, 1000)
    return showCode()
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: {
        'accept': 'application/json',
        'content-type': 'application/json',
        'x-csrf-token': csrf,
      },
      body: JSON.stringify(body),
    })
    let answer = null
    try {
      answer = await response.json()
    } catch {
      answer = null
    }
    return { status: response.status, answer }
  }

  /** Asks for a credential for this key: activation (binds the key) or renewal. */
  async function fetchCredential(kind, privateKey, publicKey) {
    const challenged = await post('/portal/card/challenge', { card })
    if (challenged.status !== 200) return challenged
    const challenge = challenged.answer.challenge
    const proof = await cc.proveDeviceKey(privateKey, new TextEncoder().encode(challenge))
    return post(kind === 'activate' ? '/portal/card/activate' : '/portal/card/credential', {
      card,
      publicKey: cc.toBase64Url(publicKey),
      challenge,
      proof: cc.toBase64Url(proof),
      label: (navigator.userAgent || '').slice(0, 120),
    })
  }

  function remember(answer, keys, previous) {
    refreshSeconds = answer.refreshSeconds || refreshSeconds
    return {
      privateKey: keys.privateKey,
      publicKey: cc.toBase64Url(keys.publicKey),
      implementation: keys.implementation,
      credential: answer.credential,
      validUntil: answer.validUntil,
      issuedAt: answer.issuedAt,
      renewAfterSeconds: answer.renewAfterSeconds,
      clockOffsetMs: answer.serverTime * 1000 - Date.now(),
      counter: previous ? previous.counter : 0,
    }
  }

  async function activate() {
    if (busy) return
    busy = true
    activateButton.disabled = true
    say('activating')
    try {
      const keys = await cc.generateDeviceKeys()
      const { status: code, answer } = await fetchCredential('activate', keys.privateKey, keys.publicKey)
      if (code !== 200) {
        say(code === 409 ? 'refused' : 'error')
        return
      }
      record = remember(answer, keys, null)
      await saveRecord(card, record)
      root.setAttribute('data-state', answer.state)
      await run()
    } catch {
      say('unsupported')
    } finally {
      busy = false
      activateButton.disabled = false
    }
  }

  /** Renews the credential when it is due (or when asked); offline, the one held keeps working. */
  async function renew(force) {
    if (!record || !navigator.onLine || busy) return
    const due = cc.credentialNeedsRenewal(cc.fromBase64Url(record.credential), {
      now: nowSeconds(),
      renewAfterSeconds: record.renewAfterSeconds || cc.DEFAULT_RENEW_AFTER_SECONDS,
    })
    if (!due && !force) return
    busy = true
    try {
      const keys = {
        privateKey: record.privateKey,
        publicKey: cc.fromBase64Url(record.publicKey),
        implementation: record.implementation,
      }
      const { status: code, answer } = await fetchCredential('renew', keys.privateKey, keys.publicKey)
      if (code === 200) {
        record = remember(answer, keys, record)
        await saveRecord(card, record)
        await run()
      } else if (code === 409 && answer && answer.error === 'unknown_device') {
        await dropRecord(card)
        record = null
        showActivate('replaced')
      } else if (code === 409) {
        await dropRecord(card)
        record = null
        stop()
        hideCode()
        say('refused')
      }
    } catch {
      // No network after all: the credential held keeps working.
    } finally {
      busy = false
    }
  }

  activateButton.addEventListener('click', activate)
  refreshButton.addEventListener('click', () => {
    if (!record) return
    run().catch(() => say('error'))
    renew(false)
  })
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && record) {
      run().catch(() => say('error'))
      renew(false)
    }
  })
  window.addEventListener('online', () => renew(false))

  ;(async () => {
    try {
      record = (await loadRecord(card)) || null
    } catch {
      record = null
    }
    if (!record) {
      showActivate('activate')
      return
    }
    await run()
    await renew(false)
  })().catch(() => say('error'))
}
