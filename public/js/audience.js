// Live count of the audience editor (components/audience_editor.edge): after
// each change, posts the surrounding form to the editor's preview endpoint
// and shows how many people the rules select. The form's own CSRF token
// travels with it. Without this script the editor's "count" button does the
// same through a normal form submission.
'use strict'

;(() => {
  const DEBOUNCE_MS = 400

  function setUp(editor) {
    const form = editor.closest('form')
    const url = editor.getAttribute('data-preview-url')
    const count = editor.querySelector('[data-audience-count]')
    const unknown = editor.querySelector('[data-audience-unknown]')
    if (!form || !url || !count) return

    let timer = null
    let controller = null
    let latest = 0

    async function refresh() {
      const ticket = ++latest
      if (controller) controller.abort()
      controller = new AbortController()
      editor.setAttribute('aria-busy', 'true')
      try {
        const body = new URLSearchParams(new FormData(form))
        body.delete('_method')
        body.delete('intent')
        const response = await fetch(url, {
          method: 'POST',
          body,
          headers: { accept: 'application/json' },
          credentials: 'same-origin',
          redirect: 'error',
          signal: controller.signal,
        })
        if (!response.ok) throw new Error(`preview answered ${response.status}`)
        const answer = await response.json()
        // A slower earlier answer must not overwrite a newer one.
        if (ticket !== latest) return
        count.textContent = answer.text
        if (unknown) unknown.textContent = answer.unknownText || ''
        editor.setAttribute('data-audience-state', answer.count === null ? 'invalid' : 'counted')
        editor.dispatchEvent(new CustomEvent('audience:counted', { detail: answer }))
      } catch (error) {
        if (error && error.name === 'AbortError') return
        if (ticket !== latest) return
        // Signed out, offline or refused: say so rather than show a stale count.
        editor.setAttribute('data-audience-state', 'failed')
        count.textContent = editor.getAttribute('data-failed-text') || ''
      } finally {
        if (ticket === latest) editor.removeAttribute('aria-busy')
      }
    }

    function schedule() {
      if (timer) clearTimeout(timer)
      timer = setTimeout(refresh, DEBOUNCE_MS)
    }

    editor.addEventListener('input', schedule)
    editor.addEventListener('change', schedule)
    refresh()
  }

  function start() {
    for (const editor of document.querySelectorAll('[data-audience-editor]')) {
      if (editor.hasAttribute('data-audience-ready')) continue
      editor.setAttribute('data-audience-ready', '')
      setUp(editor)
    }
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start)
  else start()
})()
