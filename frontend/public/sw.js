// @ts-check
/// <reference lib="webworker" />
// Chat's service worker, served from /sw.js (scope /) by Django with
// Cache-Control: no-cache, so a new version is found on the next visit. It does
// one thing: Web Push while no tab of Chat is in view. It caches nothing and
// fetches nothing. The words follow frontend/src/lib/notify.ts (title, body
// start, one notification per room); the server decides who is pushed to
// (docs/protocol.md, "Notifications").
'use strict'

const sw = /** @type {ServiceWorkerGlobalScope} */ (/** @type {unknown} */ (self))

/** As NOTIFICATION_BODY_LENGTH in lib/notify.ts. */
const BODY_LENGTH = 120

sw.addEventListener('install', () => {
  // A new version takes over at once: it holds no state an old page relies on.
  void sw.skipWaiting()
})

sw.addEventListener('activate', (event) => {
  event.waitUntil(sw.clients.claim())
})

/**
 * The payload the server encrypts: {"room", "seq", "author": USER, "body", "kind"}.
 * @param {unknown} data
 * @returns {{ room: string, author: string, body: string, kind: string } | null}
 */
function parsePayload(data) {
  if (typeof data !== 'object' || data === null) return null
  const o = /** @type {Record<string, unknown>} */ (data)
  const author = /** @type {Record<string, unknown> | null} */ (typeof o.author === 'object' ? o.author : null)
  if (typeof o.room !== 'string' || !author || typeof author.username !== 'string') return null
  return {
    room: o.room,
    author: author.username,
    body: typeof o.body === 'string' ? o.body : '',
    kind: typeof o.kind === 'string' ? o.kind : o.room.startsWith('dm-') ? 'dm' : 'public',
  }
}

/**
 * Who wrote where (a dm by its author: the push does not name the other members), and the body's start.
 * @param {{ room: string, author: string, body: string, kind: string }} push
 */
function notificationText(push) {
  const title = push.kind === 'dm' ? push.author : `${push.author} in #${push.room}`
  const chars = Array.from(push.body.replace(/\s+/g, ' ').trim())
  const body = chars.length > BODY_LENGTH ? `${chars.slice(0, BODY_LENGTH - 1).join('')}…` : chars.join('')
  return { title, body: body === '' ? 'Sent an attachment' : body }
}

/** The windows of ours, controlled or not yet (a page loaded before this worker took over). */
function ourWindows() {
  return sw.clients.matchAll({ type: 'window', includeUncontrolled: true })
}

/**
 * Keeps the worker alive until `work` is done. An event the worker did not get
 * from the browser (the browser test dispatches a click itself) cannot be extended:
 * the work then simply runs.
 * @param {ExtendableEvent} event
 * @param {Promise<unknown>} work
 */
function keepAlive(event, work) {
  try {
    event.waitUntil(work)
  } catch {
    // Not extendable: see above.
  }
}

sw.addEventListener('push', (event) => {
  keepAlive(
    event,
    (async () => {
      let data = null
      try {
        data = event.data ? event.data.json() : null
      } catch {
        // Not JSON: nothing this worker can say anything sensible about.
      }
      const push = parsePayload(data)
      if (!push) return
      // A tab in view shows the message itself (or counts it); a notification would repeat it.
      const windows = await ourWindows()
      if (windows.some((client) => client.visibilityState === 'visible')) return
      const { title, body } = notificationText(push)
      await sw.registration.showNotification(title, { body, tag: `room:${push.room}`, data: { room: push.room } })
    })(),
  )
})

sw.addEventListener('notificationclick', (event) => {
  event.notification.close()
  const room = event.notification.data && typeof event.notification.data.room === 'string' ? event.notification.data.room : null
  if (!room) return
  const path = `/r/${encodeURIComponent(room)}`
  keepAlive(
    event,
    (async () => {
      const windows = await ourWindows()
      const tab = windows.find((client) => client.focused) ?? windows[0]
      if (tab) {
        // The open tab keeps its socket: it opens the room itself (ui/notifier.ts listens).
        tab.postMessage({ type: 'open-room', room })
        await tab.focus().catch(() => undefined)
        return
      }
      await sw.clients.openWindow(path)
    })(),
  )
})
