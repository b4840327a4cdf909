// Live preview of a card face (pages/cards/types/form.edge): as the card
// type form is edited, the SVG drawn by pages/cards/face.edge follows its
// colours, shown fields, title, type name and chosen images. Only SVG
// attributes change: the content security policy allows no inline styles
// or scripts. Without this script the preview shows the saved face.
'use strict'

;(() => {
  const form = document.querySelector('[data-card-face-form]')
  const svg = document.querySelector('[data-card-face]')
  if (!form || !svg) return

  const COLORS = { colorBackground: 'background', colorText: 'text', colorAccent: 'accent' }
  const FIELDS = {
    showName: 'name',
    showPhoto: 'photo',
    showNumber: 'number',
    showOrg: 'org',
    showType: 'type',
    showValidity: 'validity',
  }
  const HEX = /^#[0-9a-fA-F]{6}$/

  function each(selector, apply) {
    for (const element of svg.querySelectorAll(selector)) apply(element)
  }

  function paintColors() {
    for (const [input, part] of Object.entries(COLORS)) {
      const field = form.elements.namedItem(input)
      if (!field || !HEX.test(field.value)) continue
      each(`[data-face-fill="${part}"]`, (element) => element.setAttribute('fill', field.value))
    }
  }

  function paintFields() {
    for (const [input, part] of Object.entries(FIELDS)) {
      const field = form.elements.namedItem(input)
      if (!field) continue
      each(`[data-face-field="${part}"]`, (element) =>
        element.setAttribute('display', field.checked ? 'inline' : 'none')
      )
    }
  }

  function paintTexts() {
    const title = form.elements.namedItem('faceTitle')
    each('[data-face-title]', (element) => {
      element.textContent = (title && title.value.trim()) || element.getAttribute('data-default-title') || ''
    })
    const source = form.elements.namedItem(svg.getAttribute('data-type-input') || 'nameZh')
    if (source && source.value.trim()) {
      each('[data-face-type-name]', (element) => {
        element.textContent = source.value.trim()
      })
    }
  }

  function showImage(kind, url) {
    each(`[data-face-image="${kind}"]`, (element) => {
      if (url) element.setAttribute('href', url)
      element.setAttribute('display', url ? 'inline' : 'none')
    })
  }

  // A chosen file is shown at once (read as a data: URL, which the policy
  // allows for images); the server checks it again when the form is saved.
  for (const input of form.querySelectorAll('[data-face-upload]')) {
    const kind = input.getAttribute('data-face-upload')
    const saved = svg.querySelector(`[data-face-image="${kind}"]`)
    const savedUrl = saved && saved.getAttribute('display') !== 'none' ? saved.getAttribute('href') : ''
    input.addEventListener('change', () => {
      const file = input.files && input.files[0]
      const limit = Number(input.getAttribute('data-max-bytes')) || Infinity
      if (!file || !/^image\/(png|jpeg|webp)$/.test(file.type) || file.size > limit) {
        showImage(kind, savedUrl)
        return
      }
      const reader = new FileReader()
      reader.addEventListener('load', () => showImage(kind, String(reader.result)))
      reader.readAsDataURL(file)
    })
  }

  for (const checkbox of form.querySelectorAll('[data-face-remove]')) {
    const kind = checkbox.getAttribute('data-face-remove')
    const saved = svg.querySelector(`[data-face-image="${kind}"]`)
    const savedUrl = saved ? saved.getAttribute('href') : ''
    checkbox.addEventListener('change', () => showImage(kind, checkbox.checked ? '' : savedUrl))
  }

  function paint() {
    paintColors()
    paintFields()
    paintTexts()
  }

  form.addEventListener('input', paint)
  form.addEventListener('change', paint)
  paint()
})()
