// Quad console behaviour. Served by the appliance itself; no external scripts.
'use strict'

document.addEventListener('DOMContentLoaded', () => {
  // Forms that change many things at once are submitted once only.
  for (const form of document.querySelectorAll('form')) {
    form.addEventListener('submit', () => {
      for (const button of form.querySelectorAll('button[type="submit"]')) {
        setTimeout(() => button.setAttribute('disabled', 'disabled'), 0)
      }
    })
  }
})
