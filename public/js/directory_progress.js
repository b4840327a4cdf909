// Progress of a directory sync run (pages/identity/directory/run.edge): polls
// the run's progress endpoint and moves the bar; when the run has ended,
// reloads the page to show its outcome. Without this script the page
// reloads itself through a <noscript> refresh.
'use strict'

;(() => {
  const POLL_MS = 1000
  const box = document.querySelector('[data-run-progress]')
  if (!box) return
  const url = box.getAttribute('data-progress-url')
  const bar = box.querySelector('[data-progress-bar]')
  const done = box.querySelector('[data-progress-done]')
  const total = box.querySelector('[data-progress-total]')
  const phase = box.querySelector('[data-progress-phase]')
  let labels = {}
  try {
    labels = JSON.parse(phase?.getAttribute('data-phases') || '{}')
  } catch {
    // Without labels the phase line keeps its first text.
  }

  async function poll() {
    try {
      const response = await fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin' })
      if (response.ok) {
        const progress = await response.json()
        if (!['queued', 'running'].includes(progress.status)) {
          window.location.reload()
          return
        }
        if (bar) {
          bar.max = Math.max(progress.total, 1)
          bar.value = progress.done
        }
        if (done) done.textContent = String(progress.done)
        if (total) total.textContent = String(progress.total)
        if (phase && labels[progress.phase]) phase.textContent = labels[progress.phase]
      }
    } catch {
      // A missed poll is retried at the next tick.
    }
    setTimeout(poll, POLL_MS)
  }
  setTimeout(poll, POLL_MS)
})()
