// The cards list's bulk form: the header checkbox ticks every row on the
// page, and the form shows how many rows are ticked.
const form = document.querySelector('[data-bulk-form]')
const all = document.querySelector('[data-bulk-all]')
const items = () => [...document.querySelectorAll('[data-bulk-item]')]
const count = form && form.querySelector('[data-bulk-count]')

function refresh() {
  const ticked = items().filter((item) => item.checked).length
  if (count) count.textContent = String(ticked)
  if (all) all.checked = ticked > 0 && ticked === items().length
}

if (all) {
  all.addEventListener('change', () => {
    for (const item of items()) item.checked = all.checked
    refresh()
  })
}
for (const item of items()) item.addEventListener('change', refresh)
refresh()
