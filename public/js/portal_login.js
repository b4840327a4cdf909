// Portal sign-in page: QR login on a desktop. Asks the server for a one-time
// QR code, shows it, and polls until a phone approves or rejects it or it
// expires. Served by the appliance; no inline scripts (CSP).
'use strict'

;(() => {
  const panel = document.querySelector('[data-qr-login]')
  if (!panel) return
  // A phone does not sign in by scanning its own screen: the panel is hidden there.
  if (window.getComputedStyle(panel).display === 'none') return

  const image = panel.querySelector('[data-qr-image]')
  const status = panel.querySelector('[data-qr-status]')
  const refresh = panel.querySelector('[data-qr-refresh]')
  const csrf = panel.getAttribute('data-csrf') || ''
  const POLL_MS = 2000
  let timer = null
  let expiresAt = 0

  function say(state) {
    status.textContent = status.getAttribute(`data-text-${state}`) || ''
    panel.setAttribute('data-qr-state', state)
    const over = ['expired', 'rejected', 'error'].includes(state)
    refresh.hidden = !over
    panel.classList.toggle('portal-qr--expired', over)
    if (over) stop()
  }

  function stop() {
    if (timer) window.clearTimeout(timer)
    timer = null
  }

  function post(url) {
    return fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'accept': 'application/json', 'x-csrf-token': csrf },
    })
  }

  async function poll() {
    timer = null
    if (Date.now() > expiresAt) return say('expired')
    try {
      const response = await post('/portal/login/qr/status')
      const answer = await response.json()
      if (answer.status === 'signed_in') {
        say('signed_in')
        window.location.assign(answer.redirect || '/portal')
        return
      }
      if (answer.status === 'unknown') return say('expired')
      say(answer.status)
    } catch {
      // A network hiccup: try again at the next tick.
    }
    if (!['expired', 'rejected'].includes(panel.getAttribute('data-qr-state'))) {
      timer = window.setTimeout(poll, POLL_MS)
    }
  }

  async function start() {
    stop()
    try {
      const response = await post('/portal/login/qr')
      if (!response.ok) return say('error')
      const answer = await response.json()
      image.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(answer.svg)}`
      image.hidden = false
      expiresAt = Date.now() + answer.expiresIn * 1000
      say('pending')
      timer = window.setTimeout(poll, POLL_MS)
    } catch {
      say('error')
    }
  }

  refresh.addEventListener('click', start)
  document.addEventListener('visibilitychange', () => {
    // Hidden tabs stop polling; coming back resumes, or shows the code expired.
    if (document.hidden) stop()
    else if (!timer && panel.getAttribute('data-qr-state') === 'pending') poll()
    else if (!timer && panel.getAttribute('data-qr-state') === 'scanned') poll()
  })
  start()
})()
