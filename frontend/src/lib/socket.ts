// One WebSocket per tab (after Phoenix's socket.js). It owns the connection
// store, reconnects with the backoff Timer (at once when the network or the tab
// comes back), and proves the socket alive with an app-level ping: a socket can
// stay "open" for minutes after the network under it is gone.
import type { ChatEnv, WebSocketLike } from './env'
import { parseServerFrame, type ClientFrame, type RequestFrame, type ServerFrame } from './protocol'
import { PushError, PushTable } from './push'
import { createStore } from './store'
import { Timer } from './timer'
import {
  CONNECT_TIMEOUT_MS, HEARTBEAT_INTERVAL_MS, HEARTBEAT_TIMEOUT_MS, PUSH_TIMEOUT_MS, RECONNECT_FLOOR_MS,
  RESTART_RECONNECT_JITTER_MS, RESTART_RETRY_JITTER_MS, RESTART_RETRY_WINDOW_MS, TOO_MANY_SOCKETS_RETRY_MS,
} from './timing'
import type { ConnectionState } from './types'

/** The server's close code for a socket without a logged-in user. */
export const CLOSE_UNAUTHORIZED = 4401
/** The server's close code for a socket over the person's limit of open sockets. */
export const CLOSE_TOO_MANY_SOCKETS = 4429
/** The server's close code when its process stops (a restart, a deploy): come back at once. */
export const CLOSE_SERVICE_RESTART = 1012

const OPEN = 1

export interface SocketHandlers {
  /** The socket is open: (re)join rooms, resend the outbox. */
  onOpen(): void
  /** The socket is gone, whatever the reason. */
  onClose(): void
  /** Every valid frame; `answered` when it settled a request of ours. */
  onFrame(frame: ServerFrame, answered: boolean): void
  /** Closed with 4401: the session is over; no reconnecting. */
  onUnauthorized(): void
}

type Env = Pick<ChatEnv, 'WebSocket' | 'clock' | 'random' | 'window' | 'document'>

export class Socket {
  readonly connection = createStore<ConnectionState>({ status: 'idle', retryAt: null })
  readonly pushes: PushTable
  private ws: WebSocketLike | null = null
  /** Whether the socket should be up: between connect() and disconnect()/4401. */
  private wanted = false
  private readonly reconnectTimer: Timer
  /** Until then (epoch ms) failed tries are retried soon: the server closed us with 1012. */
  private restartRetryUntil = 0
  private connectTimer: unknown = null
  private heartbeatTimer: unknown = null
  private heartbeatDeadline: unknown = null
  private heartbeatRef: string | null = null
  private heartbeatCount = 0
  private readonly wake = () => this.onWake()
  private readonly onVisibility = () => {
    if (this.env.document?.visibilityState !== 'hidden') this.onWake()
  }

  constructor(
    private readonly url: string,
    private readonly env: Env,
    private readonly handlers: SocketHandlers,
  ) {
    this.pushes = new PushTable(env.clock)
    this.reconnectTimer = new Timer(() => this.open(), env.clock, env.random)
    env.window?.addEventListener('online', this.wake)
    env.window?.addEventListener('focus', this.wake)
    env.document?.addEventListener('visibilitychange', this.onVisibility)
  }

  get isConnected(): boolean {
    return this.connection.getState().status === 'connected'
  }

  connect(): void {
    this.wanted = true
    if (!this.ws && !this.reconnectTimer.pending) this.open()
  }

  /** Closes on purpose: no reconnecting until connect(). */
  disconnect(): void {
    this.wanted = false
    this.reconnectTimer.reset()
    this.restartRetryUntil = 0
    const ws = this.ws
    if (ws) {
      this.abandon(ws)
      ws.close(1000, 'bye')
    }
    this.connection.setState({ status: 'idle', retryAt: null })
  }

  /** Tries at once instead of waiting out the backoff. */
  reconnectNow(): void {
    if (!this.wanted || this.ws) return
    this.reconnectTimer.cancel()
    this.open()
  }

  /** Sends a frame that wants no reply; false when not connected. */
  send(frame: ClientFrame): boolean {
    const ws = this.ws
    if (!ws || !this.isConnected || ws.readyState !== OPEN) return false
    ws.send(JSON.stringify(frame))
    return true
  }

  /** Sends a request and waits for its reply (see PushTable). */
  request(frame: RequestFrame): Promise<ServerFrame> {
    return this.pushes.request(frame, (withRef) => this.send(withRef))
  }

  /**
   * A request made by hand (a search, a dialog's): sent now if the socket is connected,
   * else once it connects again, so a moment's reconnect does not fail it.
   * Rejects as `disconnected` if no connection comes within `waitMs`.
   */
  requestWhenConnected(frame: RequestFrame, waitMs = PUSH_TIMEOUT_MS): Promise<ServerFrame> {
    if (this.isConnected) return this.request(frame)
    return new Promise<ServerFrame>((resolve, reject) => {
      const stop = () => {
        unsubscribe()
        this.env.clock.clearTimeout(timer)
      }
      const timer = this.env.clock.setTimeout(() => {
        stop()
        reject(new PushError('disconnected', 'Not connected'))
      }, waitMs)
      const unsubscribe = this.connection.subscribe(() => {
        if (!this.isConnected) return
        stop()
        this.request(frame).then(resolve, reject)
      })
    })
  }

  dispose(): void {
    this.disconnect()
    this.env.window?.removeEventListener('online', this.wake)
    this.env.window?.removeEventListener('focus', this.wake)
    this.env.document?.removeEventListener('visibilitychange', this.onVisibility)
  }

  // ---- connection lifecycle ---------------------------------------------------

  private open(): void {
    if (!this.wanted) return
    const firstTry = this.connection.getState().status === 'idle' || this.connection.getState().status === 'connecting'
    this.connection.setState({ status: firstTry ? 'connecting' : 'reconnecting', retryAt: null })
    let ws: WebSocketLike
    try {
      ws = new this.env.WebSocket(this.url)
    } catch (error) {
      console.warn('chat: cannot open the socket', error)
      this.scheduleReconnect()
      return
    }
    this.ws = ws
    ws.onopen = () => this.onOpen(ws)
    ws.onclose = (event) => this.onClose(ws, event.code)
    ws.onerror = () => {} // a close event follows; that is where we act
    ws.onmessage = (event) => this.onMessage(event.data)
    this.connectTimer = this.env.clock.setTimeout(() => this.dead(ws), CONNECT_TIMEOUT_MS)
  }

  private onOpen(ws: WebSocketLike): void {
    if (ws !== this.ws) return
    this.clearConnectTimer()
    this.reconnectTimer.reset()
    this.restartRetryUntil = 0
    this.connection.setState({ status: 'connected', retryAt: null })
    this.scheduleHeartbeat()
    this.handlers.onOpen()
  }

  private onClose(ws: WebSocketLike, code: number): void {
    if (ws !== this.ws) return
    this.abandon(ws)
    if (code === CLOSE_UNAUTHORIZED) {
      this.wanted = false
      this.reconnectTimer.reset()
      this.connection.setState({ status: 'idle', retryAt: null })
      this.handlers.onUnauthorized()
      return
    }
    // Any other close (1013 for a socket that fell behind, a restart, the network)
    // is retried; the rejoin with `since` catches up on what was missed.
    if (code === CLOSE_SERVICE_RESTART) this.reconnectSoon()
    else this.scheduleReconnect(code === CLOSE_TOO_MANY_SOCKETS ? TOO_MANY_SOCKETS_RETRY_MS : 0)
  }

  /** The server is restarting and asked us back at once (another server takes us, or
   *  this one once it is back: till RESTART_RETRY_WINDOW_MS, failed tries are retried soon). */
  private reconnectSoon(): void {
    if (!this.wanted) return
    this.restartRetryUntil = this.env.clock.now() + RESTART_RETRY_WINDOW_MS
    const retryAt = this.reconnectTimer.scheduleSoon(RESTART_RECONNECT_JITTER_MS)
    this.connection.setState({ status: 'reconnecting', retryAt })
  }

  /** The socket is unusable though no close event came: drop it and retry. */
  private dead(ws: WebSocketLike): void {
    if (ws !== this.ws) return
    this.abandon(ws)
    try {
      ws.close(1000, 'no answer')
    } catch {
      // closing a socket that is half gone may throw; it is abandoned either way
    }
    this.scheduleReconnect()
  }

  /** Forgets the socket: its late events are ignored; in-flight requests fail. */
  private abandon(ws: WebSocketLike): void {
    ws.onopen = ws.onclose = ws.onerror = ws.onmessage = null
    const wasOpen = this.isConnected
    this.ws = null
    this.clearConnectTimer()
    this.stopHeartbeat()
    this.pushes.rejectAll()
    if (wasOpen) this.handlers.onClose()
  }

  private scheduleReconnect(atLeastMs = 0): void {
    if (!this.wanted) {
      this.connection.setState({ status: 'idle', retryAt: null })
      return
    }
    const retryAt =
      atLeastMs === 0 && this.env.clock.now() < this.restartRetryUntil
        ? this.reconnectTimer.scheduleSoon(RESTART_RETRY_JITTER_MS, RECONNECT_FLOOR_MS)
        : this.reconnectTimer.scheduleTimeout(atLeastMs)
    this.connection.setState({ status: 'reconnecting', retryAt })
  }

  private onWake(): void {
    if (!this.wanted) return
    if (this.ws === null) this.reconnectNow()
    // Back from sleep or offline: the "open" socket may be dead; prove it now.
    else if (this.isConnected && this.heartbeatRef === null) this.sendHeartbeat()
  }

  private clearConnectTimer(): void {
    if (this.connectTimer !== null) this.env.clock.clearTimeout(this.connectTimer)
    this.connectTimer = null
  }

  // ---- frames and heartbeat ---------------------------------------------------

  private onMessage(data: unknown): void {
    const frame = parseServerFrame(data)
    if (!frame) return
    if (frame.type === 'pong' && frame.ref !== undefined && frame.ref === this.heartbeatRef) {
      this.env.clock.clearTimeout(this.heartbeatDeadline)
      this.heartbeatDeadline = null
      this.heartbeatRef = null
      this.scheduleHeartbeat()
      return
    }
    const answered = this.pushes.settle(frame)
    this.handlers.onFrame(frame, answered)
  }

  private scheduleHeartbeat(): void {
    if (this.heartbeatTimer !== null) this.env.clock.clearTimeout(this.heartbeatTimer)
    this.heartbeatTimer = this.env.clock.setTimeout(() => {
      this.heartbeatTimer = null
      this.sendHeartbeat()
    }, HEARTBEAT_INTERVAL_MS)
  }

  private sendHeartbeat(): void {
    const ws = this.ws
    if (!ws) return
    if (this.heartbeatTimer !== null) this.env.clock.clearTimeout(this.heartbeatTimer)
    this.heartbeatTimer = null
    this.heartbeatRef = `hb${++this.heartbeatCount}`
    this.send({ type: 'ping', ref: this.heartbeatRef })
    this.heartbeatDeadline = this.env.clock.setTimeout(() => this.dead(ws), HEARTBEAT_TIMEOUT_MS)
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer !== null) this.env.clock.clearTimeout(this.heartbeatTimer)
    if (this.heartbeatDeadline !== null) this.env.clock.clearTimeout(this.heartbeatDeadline)
    this.heartbeatTimer = this.heartbeatDeadline = null
    this.heartbeatRef = null
  }
}
