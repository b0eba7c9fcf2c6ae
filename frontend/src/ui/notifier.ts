// Notifications in the browser: the permission (asked only when the person
// presses `Enable notifications`), desktop notifications while the tab is hidden
// (lib/notify decides, with the server's per-room levels), and Web Push through
// our service worker (/sw.js) for when no tab is open. Framework-free glue over
// the browser's APIs; the header's button and the room settings read its store.
import {
  levelOf, notificationTag, notificationText, shouldNotify, type ChatClient, type Message, type Store,
} from '../lib'
import { createStore } from '../lib/store'
import { PUSH_UNSUBSCRIBE_WAIT_MS } from '../lib/timing'

export type Permission = NotificationPermission | 'unsupported'

export interface NotifierState {
  permission: Permission
  /** Granted, and not turned off in this browser. */
  enabled: boolean
  /** A short word for the person (asked and denied; no push here), else null. */
  note: string | null
}

/** Set to 'off' when the person turns notifications off here; granted means on otherwise. */
const OFF_KEY = 'chat:notifications'

export const DENIED_NOTE = 'Notifications are blocked in this browser’s settings.'
export const NO_PUSH_NOTE = 'No push messages in this browser: notifications come only while Chat is open.'

function readPermission(): Permission {
  return typeof Notification === 'undefined' ? 'unsupported' : Notification.permission
}

function storedOff(): boolean {
  try {
    return localStorage.getItem(OFF_KEY) === 'off'
  } catch {
    return false
  }
}

function storeOff(off: boolean): void {
  try {
    if (off) localStorage.setItem(OFF_KEY, 'off')
    else localStorage.removeItem(OFF_KEY)
  } catch {
    // Private modes may refuse storage: the choice then lasts for this page only.
  }
}

/** The applicationServerKey from its base64url text, as PushManager takes it everywhere. */
function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const base64 = base64url.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(base64url.length / 4) * 4, '=')
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))
}

const sameKey = (a: ArrayBuffer | null, b: Uint8Array) =>
  a !== null && a.byteLength === b.byteLength && new Uint8Array(a).every((byte, i) => byte === b[i])

export class Notifier {
  private readonly store = createStore<NotifierState>({ permission: readPermission(), enabled: false, note: null })
  /** The user whose push subscription the server has been given on this page. */
  private pushedFor: number | null = null
  private readonly stops: (() => void)[] = []

  constructor(
    private readonly client: ChatClient,
    private readonly navigate: (room: string) => void,
  ) {
    this.refresh()
    this.stops.push(client.onLiveMessage((message) => this.onLiveMessage(message)))
    // Once connected as someone (again): make sure the server has this browser's subscription.
    this.stops.push(client.connection.subscribe(() => this.syncPush()))
    const back = () => this.refresh()
    window.addEventListener('focus', back)
    document.addEventListener('visibilitychange', back)
    this.stops.push(() => window.removeEventListener('focus', back), () => document.removeEventListener('visibilitychange', back))
    // The person may change the permission in the browser's settings while the page is open.
    void navigator.permissions?.query({ name: 'notifications' }).then(
      (status) => {
        status.onchange = back
      },
      () => undefined,
    )
    navigator.serviceWorker?.addEventListener('message', this.onWorkerMessage)
    // A listener added this way does not start the queue by itself (setting onmessage would).
    navigator.serviceWorker?.startMessages()
  }

  get state(): Store<NotifierState> {
    return this.store
  }

  /** `Enable notifications` (or turning them on again): asks the browser only now, at the person's request. */
  async enable(): Promise<void> {
    if (typeof Notification === 'undefined') return
    let permission = Notification.permission
    if (permission === 'default') permission = await Notification.requestPermission()
    storeOff(false)
    this.store.setState((s) => ({ ...s, note: permission === 'denied' ? DENIED_NOTE : null }))
    this.refresh()
    this.syncPush()
  }

  /** Turned off here: no desktop notifications, and the server forgets this browser's subscription. */
  async disable(): Promise<void> {
    storeOff(true)
    this.refresh()
    await this.unsubscribe()
  }

  /** Before the session ends: pushes for this person must stop reaching this browser. */
  async beforeLogout(): Promise<void> {
    await Promise.race([this.unsubscribe(), new Promise((resolve) => setTimeout(resolve, PUSH_UNSUBSCRIBE_WAIT_MS))])
  }

  dispose(): void {
    for (const stop of this.stops.splice(0)) stop()
    navigator.serviceWorker?.removeEventListener('message', this.onWorkerMessage)
  }

  private refresh(): void {
    const permission = readPermission()
    const enabled = permission === 'granted' && !storedOff()
    const state = this.store.getState()
    if (state.permission !== permission || state.enabled !== enabled) this.store.setState({ ...state, permission, enabled })
  }

  // ---- desktop notifications while the tab is hidden --------------------------------

  private onLiveMessage(message: Message): void {
    this.refresh()
    const me = this.client.session.getState().user
    if (!me || !this.store.getState().enabled) return
    const room = this.client.rooms.getState().find((r) => r.name === message.room)
    const kind = room?.kind ?? (message.room.startsWith('dm-') ? 'dm' : 'public')
    const level = levelOf(this.client.notifyLevels.getState(), message.room, kind)
    if (!shouldNotify({ message, me: me.id, level, hidden: document.visibilityState === 'hidden', now: Date.now() })) return
    const { title, body } = notificationText(message, room, me)
    const options = { body, tag: notificationTag(message.room), data: { room: message.room } }
    try {
      const notification = new Notification(title, options)
      notification.onclick = () => {
        window.focus()
        this.navigate(message.room)
        notification.close()
      }
    } catch {
      // Android's Chrome has no Notification constructor: the service worker shows it (and handles its click).
      void navigator.serviceWorker?.ready.then((registration) => registration.showNotification(title, options))
    }
  }

  /** The service worker's notification was clicked while this tab was open: it asks us to open the room. */
  private readonly onWorkerMessage = (event: MessageEvent) => {
    const data: unknown = event.data
    if (typeof data === 'object' && data !== null && (data as { type?: unknown }).type === 'open-room') {
      const room = (data as { room?: unknown }).room
      if (typeof room === 'string') this.navigate(room)
    }
  }

  // ---- Web Push ---------------------------------------------------------------------

  private syncPush(): void {
    const user = this.client.session.getState().user
    if (!user || this.pushedFor === user.id || !this.store.getState().enabled) return
    if (this.client.connection.getState().status !== 'connected' || !navigator.serviceWorker) return
    this.pushedFor = user.id
    this.subscribe().catch((error: unknown) => {
      this.pushedFor = null
      console.warn('chat: no push subscription', error)
      this.store.setState((s) => ({ ...s, note: NO_PUSH_NOTE }))
    })
  }

  private async subscribe(): Promise<void> {
    const registration = await navigator.serviceWorker.register('/sw.js', { scope: '/' })
    // The server says whether it sends Web Push at all (its VAPID key); without it, desktop notifications only.
    const key = document.querySelector<HTMLMetaElement>('meta[name="vapid-public-key"]')?.content
    if (!key || !('pushManager' in registration)) return
    const applicationServerKey = keyBytes(key)
    let subscription = await registration.pushManager.getSubscription()
    if (subscription && !sameKey(subscription.options.applicationServerKey, applicationServerKey)) {
      // The server's key changed: the old subscription would only be refused.
      await subscription.unsubscribe()
      subscription = null
    }
    subscription ??= await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey })
    const { keys } = subscription.toJSON()
    if (!keys?.p256dh || !keys.auth) throw new Error('push subscription without keys')
    await this.client.pushSubscribe(subscription.endpoint, { p256dh: keys.p256dh, auth: keys.auth })
  }

  private async unsubscribe(): Promise<void> {
    this.pushedFor = null
    const registration = await navigator.serviceWorker?.getRegistration('/')
    const subscription = await registration?.pushManager?.getSubscription()
    if (!subscription) return
    try {
      await this.client.pushUnsubscribe(subscription.endpoint)
    } catch (error) {
      console.warn('chat: the server could not forget the push subscription', error)
    }
    // Gone from the browser too, so the next person signing in here gets a subscription of their own.
    await subscription.unsubscribe().catch(() => false)
  }
}
