// The notifier over fakes of the browser's Notification, service worker and
// push manager (Chromium reaches no push service, so the browser test cannot
// see a subscription succeed: this is where push_subscribe is checked).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { ChatClient, ConnectionState, Message, NotifyLevels, RoomSummary, SessionState } from '../lib'
import { unknownRoom } from '../lib'
import { createStore } from '../lib/store'
import { DENIED_NOTE, NO_PUSH_NOTE, Notifier } from './notifier'

const alice = { id: 1, username: 'alice' }
const bob = { id: 2, username: 'bob' }
const KEY = 'BNo6CLUIFBU9cyKONmKmx29BYxjrXx6zVoxcYw9wV8zBCm0ulb_Q5cHSYUPUg0AlxbYoftffnTlFRr5Mc_rYKOU'

class FakeNotification {
  static permission: NotificationPermission = 'granted'
  static answer: NotificationPermission = 'granted'
  static requestPermission = vi.fn(async () => (FakeNotification.permission = FakeNotification.answer))
  static made: FakeNotification[] = []
  onclick: (() => void) | null = null
  close = vi.fn()
  constructor(readonly title: string, readonly options: NotificationOptions) {
    FakeNotification.made.push(this)
  }
}

function fakeBrowser({ meta = true, subscribeFails = false } = {}) {
  const subscription = {
    endpoint: 'https://push.example/abc',
    options: { applicationServerKey: null as ArrayBuffer | null },
    toJSON: () => ({ endpoint: 'https://push.example/abc', keys: { p256dh: 'P256', auth: 'AUTH' } }),
    unsubscribe: vi.fn(async () => true),
  }
  let subscribed: typeof subscription | null = null
  const pushManager = {
    getSubscription: vi.fn(async () => subscribed),
    subscribe: vi.fn(async (options: { applicationServerKey: Uint8Array }) => {
      if (subscribeFails) throw new DOMException('push service not available', 'AbortError')
      subscription.options.applicationServerKey = options.applicationServerKey.slice().buffer
      return (subscribed = subscription)
    }),
  }
  const registration = { pushManager, showNotification: vi.fn() }
  const serviceWorker = {
    register: vi.fn(async () => registration),
    getRegistration: vi.fn(async () => registration),
    ready: Promise.resolve(registration),
    addEventListener: vi.fn(),
    removeEventListener: vi.fn(),
    startMessages: vi.fn(),
  }
  const storage = new Map<string, string>()
  const document = {
    visibilityState: 'visible',
    querySelector: (selector: string) => (meta && selector === 'meta[name="vapid-public-key"]' ? { content: KEY } : null),
    addEventListener: vi.fn(),
    removeEventListener: vi.fn(),
  }
  vi.stubGlobal('Notification', FakeNotification)
  vi.stubGlobal('navigator', { serviceWorker })
  vi.stubGlobal('document', document)
  vi.stubGlobal('window', { addEventListener: vi.fn(), removeEventListener: vi.fn(), focus: vi.fn() })
  vi.stubGlobal('localStorage', {
    getItem: (key: string) => storage.get(key) ?? null,
    setItem: (key: string, value: string) => storage.set(key, value),
    removeItem: (key: string) => storage.delete(key),
  })
  return { serviceWorker, pushManager, subscription, document, storage }
}

function fakeClient() {
  const connection = createStore<ConnectionState>({ status: 'connecting', retryAt: null })
  const session = createStore<SessionState>({ status: 'authenticated', user: alice })
  const rooms = createStore<RoomSummary[]>([unknownRoom('general'), { ...unknownRoom('dm-1-2'), kind: 'dm', members: [alice, bob] }])
  const notifyLevels = createStore<NotifyLevels>({})
  const listeners = new Set<(m: Message) => void>()
  const client = {
    connection, session, rooms, notifyLevels,
    pushSubscribe: vi.fn(async () => {}),
    pushUnsubscribe: vi.fn(async () => {}),
    onLiveMessage: (listener: (m: Message) => void) => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
  const deliver = (m: Partial<Message>) => {
    const message: Message = {
      id: 1, room: 'general', seq: 1, author: bob, body: 'hi @alice', created_at: new Date().toISOString(), client_id: 'c',
      rev: 1, reply_to: null, mentions: [alice.id], edited_at: null, deleted: false, reactions: [], ...m,
    }
    for (const listener of listeners) listener(message)
  }
  return { client: client as unknown as ChatClient, fake: client, connection, notifyLevels, deliver }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0))

beforeEach(() => {
  FakeNotification.permission = 'granted'
  FakeNotification.answer = 'granted'
  FakeNotification.made = []
  FakeNotification.requestPermission.mockClear()
})
afterEach(() => {
  vi.unstubAllGlobals()
})

describe('Web Push', () => {
  it('subscribes once connected, with the key of the page, and gives the server the subscription', async () => {
    const browser = fakeBrowser()
    const { client, fake, connection } = fakeClient()
    const notifier = new Notifier(client, () => {})
    expect(browser.serviceWorker.register).not.toHaveBeenCalled()
    connection.setState({ status: 'connected', retryAt: null })
    await settle()
    expect(browser.serviceWorker.register).toHaveBeenCalledWith('/sw.js', { scope: '/' })
    const options = browser.pushManager.subscribe.mock.calls[0]![0] as unknown as { userVisibleOnly: boolean; applicationServerKey: Uint8Array }
    expect(options.userVisibleOnly).toBe(true)
    expect(options.applicationServerKey).toHaveLength(65)
    expect(options.applicationServerKey[0]).toBe(4)
    expect(fake.pushSubscribe).toHaveBeenCalledWith('https://push.example/abc', { p256dh: 'P256', auth: 'AUTH' })

    // Reconnecting does not subscribe again on this page.
    connection.setState({ status: 'reconnecting', retryAt: 1 })
    connection.setState({ status: 'connected', retryAt: null })
    await settle()
    expect(fake.pushSubscribe).toHaveBeenCalledTimes(1)
    expect(notifier.state.getState().note).toBeNull()
  })

  it('without a server key registers the worker only; a refused subscription is a short note', async () => {
    const quiet = fakeBrowser({ meta: false })
    const first = fakeClient()
    new Notifier(first.client, () => {})
    first.connection.setState({ status: 'connected', retryAt: null })
    await settle()
    expect(quiet.serviceWorker.register).toHaveBeenCalled()
    expect(quiet.pushManager.subscribe).not.toHaveBeenCalled()

    vi.spyOn(console, 'warn').mockImplementation(() => {})
    fakeBrowser({ subscribeFails: true })
    const second = fakeClient()
    const notifier = new Notifier(second.client, () => {})
    second.connection.setState({ status: 'connected', retryAt: null })
    await settle()
    expect(second.fake.pushSubscribe).not.toHaveBeenCalled()
    expect(notifier.state.getState()).toEqual({ permission: 'granted', enabled: true, note: NO_PUSH_NOTE })
  })

  it('takes the subscription back before logging out, and when turned off', async () => {
    const browser = fakeBrowser()
    const { client, fake, connection } = fakeClient()
    const notifier = new Notifier(client, () => {})
    connection.setState({ status: 'connected', retryAt: null })
    await settle()
    await notifier.beforeLogout()
    expect(fake.pushUnsubscribe).toHaveBeenCalledWith('https://push.example/abc')
    expect(browser.subscription.unsubscribe).toHaveBeenCalledTimes(1)

    await notifier.disable()
    expect(notifier.state.getState().enabled).toBe(false)
    expect(browser.storage.get('chat:notifications')).toBe('off')
  })
})

describe('the permission', () => {
  it('is asked only by enable(); denied is a note, granted turns notifications on', async () => {
    FakeNotification.permission = 'default'
    FakeNotification.answer = 'denied'
    fakeBrowser()
    const { client } = fakeClient()
    const notifier = new Notifier(client, () => {})
    expect(FakeNotification.requestPermission).not.toHaveBeenCalled()
    expect(notifier.state.getState()).toEqual({ permission: 'default', enabled: false, note: null })
    await notifier.enable()
    expect(FakeNotification.requestPermission).toHaveBeenCalledTimes(1)
    expect(notifier.state.getState()).toEqual({ permission: 'denied', enabled: false, note: DENIED_NOTE })

    FakeNotification.permission = 'default'
    FakeNotification.answer = 'granted'
    const again = new Notifier(fakeClient().client, () => {})
    await again.enable()
    expect(again.state.getState()).toEqual({ permission: 'granted', enabled: true, note: null })
  })
})

describe('desktop notifications', () => {
  it('while hidden, by the level; a click opens the room', async () => {
    const browser = fakeBrowser({ meta: false })
    const { client, deliver, notifyLevels } = fakeClient()
    const opened: string[] = []
    new Notifier(client, (room) => opened.push(room))

    deliver({})
    expect(FakeNotification.made).toEqual([])

    browser.document.visibilityState = 'hidden'
    deliver({ mentions: [], body: 'no mention' })
    deliver({ room: 'dm-1-2', mentions: [], body: 'in private' })
    deliver({ body: 'hi @alice' })
    expect(FakeNotification.made.map((n) => [n.title, n.options.body, n.options.tag])).toEqual([
      ['bob', 'in private', 'room:dm-1-2'],
      ['bob in #general', 'hi @alice', 'room:general'],
    ])
    FakeNotification.made[1]!.onclick!()
    expect(opened).toEqual(['general'])
    expect(FakeNotification.made[1]!.close).toHaveBeenCalled()

    notifyLevels.setState({ general: 'nothing', 'dm-1-2': 'mentions' })
    deliver({ body: 'hi @alice again' })
    deliver({ room: 'dm-1-2', mentions: [], body: 'quiet now' })
    expect(FakeNotification.made).toHaveLength(2)
  })

  it('not once turned off here', async () => {
    const browser = fakeBrowser({ meta: false })
    const { client, deliver } = fakeClient()
    const notifier = new Notifier(client, () => {})
    await notifier.disable()
    browser.document.visibilityState = 'hidden'
    deliver({})
    expect(FakeNotification.made).toEqual([])
  })
})
