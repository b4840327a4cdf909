// The card page's service worker (scope /portal/card). It keeps a copy of the
// card page and the scripts, styles and images it uses, so that the page
// opens and keeps making campus codes with no network. Online, everything
// comes from the appliance first and the copy is refreshed.
'use strict'

const CACHE = 'quad-card-v1'
const PAGE = '/portal/card'

self.addEventListener('install', () => self.skipWaiting())

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim())
  )
})

function keepable(url) {
  return (
    url.origin === self.location.origin &&
    (url.pathname === PAGE ||
      url.pathname === '/card.webmanifest' ||
      /^\/(js|css|img)\//.test(url.pathname))
  )
}

async function keep(request, response) {
  if (!response || response.status !== 200 || response.type !== 'basic') return
  const cache = await caches.open(CACHE)
  const url = new URL(request.url || request, self.location.origin)
  await cache.put(url.pathname === PAGE ? PAGE : request, response)
}

// The page lists what it loaded before this worker controlled it.
self.addEventListener('message', (event) => {
  const data = event.data || {}
  if (data.type !== 'keep' || !Array.isArray(data.urls)) return
  event.waitUntil(
    Promise.all(
      data.urls
        .map((path) => new URL(path, self.location.origin))
        .filter(keepable)
        .map((url) =>
          fetch(url.href, { credentials: 'same-origin' })
            .then((response) => keep(url.href, response))
            .catch(() => {})
        )
    )
  )
})

self.addEventListener('fetch', (event) => {
  const request = event.request
  if (request.method !== 'GET') return
  const url = new URL(request.url)
  if (!keepable(url)) return
  const key = url.pathname === PAGE ? PAGE : request
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.status === 200 && !response.redirected) {
          const copy = response.clone()
          event.waitUntil(keep(request, copy))
        }
        return response
      })
      .catch(() =>
        caches.match(key).then((hit) => hit || Response.error())
      )
  )
})
