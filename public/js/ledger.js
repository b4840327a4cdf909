// Ledger pages: the receipt's print button. No inline scripts: the content
// security policy forbids them.
'use strict'

document.addEventListener('click', (event) => {
  const trigger = event.target instanceof Element ? event.target.closest('[data-print]') : null
  if (trigger) window.print()
})
