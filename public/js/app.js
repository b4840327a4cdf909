// Quad console behaviour. Served by the appliance itself; no external scripts,
// and no inline ones either: the content security policy forbids them.
'use strict'

;(() => {
  // ---------------------------------------------------------------------
  // Submit buttons: a form is sent once.
  //
  // The buttons disabled here are marked so that they can be enabled again
  // when the browser shows the page from its back/forward cache: the page
  // comes back exactly as it was left, disabled buttons included, and no
  // DOMContentLoaded runs.
  // ---------------------------------------------------------------------
  const SUBMITTING = 'data-submitting'

  // Runs just after the submit event: a submitter disabled during the event
  // would leave its name and value out of the data sent.
  function disableSubmitButtons(form) {
    const buttons = form.querySelectorAll(
      'button[type="submit"], button:not([type]), input[type="submit"]'
    )
    for (const button of buttons) {
      if (button.disabled) continue
      // Firefox otherwise restores the disabled state on a normal back navigation too.
      button.setAttribute('autocomplete', 'off')
      button.setAttribute(SUBMITTING, '')
      button.disabled = true
    }
  }

  function restoreSubmitButtons() {
    for (const button of document.querySelectorAll(`[${SUBMITTING}]`)) {
      button.disabled = false
      button.removeAttribute(SUBMITTING)
    }
    for (const form of document.querySelectorAll('form[data-confirmed]')) {
      form.removeAttribute('data-confirmed')
    }
  }

  window.addEventListener('pageshow', (event) => {
    if (event.persisted) restoreSubmitButtons()
  })

  // ---------------------------------------------------------------------
  // Confirm dialog: a form, a submit button or a link marked
  // data-confirm="question" asks first, in the native <dialog> that the
  // layout renders once (components/confirm_dialog.edge). Optional:
  // data-confirm-ok="label of the confirm button", data-confirm-danger.
  // ---------------------------------------------------------------------
  function askToConfirm(trigger, onConfirm) {
    const message = trigger.getAttribute('data-confirm') || ''
    const dialog = document.getElementById('confirm-dialog')
    if (!dialog || typeof dialog.showModal !== 'function') {
      if (window.confirm(message)) onConfirm()
      return
    }
    const accept = dialog.querySelector('[data-confirm-accept]')
    dialog.querySelector('.confirm-dialog-message').textContent = message
    accept.textContent =
      trigger.getAttribute('data-confirm-ok') || accept.getAttribute('data-default-label')
    const danger = trigger.hasAttribute('data-confirm-danger')
    accept.classList.toggle('button--danger', danger)
    accept.classList.toggle('button--primary', !danger)
    dialog.returnValue = ''
    dialog.addEventListener(
      'close',
      () => {
        if (dialog.returnValue === 'confirm') onConfirm()
      },
      { once: true }
    )
    dialog.showModal()
  }

  document.addEventListener('submit', (event) => {
    const form = event.target
    if (!(form instanceof HTMLFormElement) || form.method === 'dialog') return
    const submitter = event.submitter || null
    const trigger =
      submitter && submitter.hasAttribute('data-confirm')
        ? submitter
        : form.hasAttribute('data-confirm')
          ? form
          : null
    if (trigger && !form.hasAttribute('data-confirmed')) {
      event.preventDefault()
      askToConfirm(trigger, () => {
        form.setAttribute('data-confirmed', '')
        if (typeof form.requestSubmit === 'function') form.requestSubmit(submitter)
        else form.submit()
      })
      return
    }
    form.removeAttribute('data-confirmed')
    // Leave the buttons alone when another handler stopped the submission.
    setTimeout(() => {
      if (!event.defaultPrevented) disableSubmitButtons(form)
    }, 0)
  })

  document.addEventListener('click', (event) => {
    const link = event.target instanceof Element ? event.target.closest('a[data-confirm]') : null
    if (!link || event.defaultPrevented || event.button !== 0) return
    event.preventDefault()
    askToConfirm(link, () => {
      window.location.assign(link.href)
    })
  })
})()
