// The outside world the data layer touches, injectable so tests can fake it.
// Defaults read the globals at call time, so Vitest's fake timers apply.

export interface WebSocketLike {
  readonly readyState: number
  onopen: ((event: unknown) => void) | null
  onclose: ((event: { code: number; reason?: string }) => void) | null
  onerror: ((event: unknown) => void) | null
  onmessage: ((event: { data: unknown }) => void) | null
  send(data: string): void
  close(code?: number, reason?: string): void
}

export type WebSocketFactory = new (url: string) => WebSocketLike

/** The part of XMLHttpRequest an upload uses: fetch cannot report upload progress. */
export interface XhrLike {
  open(method: string, url: string): void
  withCredentials: boolean
  setRequestHeader(name: string, value: string): void
  readonly upload: { onprogress: ((event: { loaded: number; total: number; lengthComputable: boolean }) => void) | null }
  onload: ((event: unknown) => void) | null
  onerror: ((event: unknown) => void) | null
  readonly status: number
  readonly responseText: string
  send(body: FormData): void
  abort(): void
}

export type XhrFactory = new () => XhrLike

/** The part of localStorage the outbox uses. */
export interface StorageLike {
  getItem(key: string): string | null
  setItem(key: string, value: string): void
  removeItem(key: string): void
}

/** The part of window/document the socket listens to (online, focus, visibilitychange). */
export interface EventTargetLike {
  addEventListener(type: string, listener: () => void): void
  removeEventListener(type: string, listener: () => void): void
}

export interface Clock {
  now(): number
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export interface ChatEnv {
  WebSocket: WebSocketFactory
  fetch: typeof fetch
  /** For uploads, which report their progress. */
  XMLHttpRequest: XhrFactory
  storage: StorageLike | null
  clock: Clock
  /** Uniform in [0, 1), for backoff jitter. */
  random: () => number
  /** A fresh client_id. */
  randomId: () => string
  /** The page's cookies (document.cookie), for the CSRF token. */
  cookies: () => string
  /** window: `online` and `focus`. */
  window: EventTargetLike | null
  /** document: `visibilitychange`; isVisible reads visibilityState. */
  document: (EventTargetLike & { readonly visibilityState?: string }) | null
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
}

export function defaultEnv(overrides: Partial<ChatEnv> = {}): ChatEnv {
  const g = globalThis as unknown as {
    WebSocket?: WebSocketFactory
    XMLHttpRequest?: XhrFactory
    localStorage?: StorageLike
    window?: EventTargetLike
    document?: EventTargetLike & { cookie?: string; visibilityState?: string }
  }
  return {
    WebSocket:
      g.WebSocket ??
      (class {
        constructor() {
          throw new Error('No WebSocket in this environment')
        }
      } as unknown as WebSocketFactory),
    fetch: (...args) => globalThis.fetch(...args),
    XMLHttpRequest:
      g.XMLHttpRequest ??
      (class {
        constructor() {
          throw new Error('No XMLHttpRequest in this environment')
        }
      } as unknown as XhrFactory),
    storage: safeStorage(g),
    clock: systemClock,
    random: Math.random,
    randomId: () => crypto.randomUUID(),
    cookies: () => g.document?.cookie ?? '',
    window: g.window ?? null,
    document: g.document ?? null,
    ...overrides,
  }
}

function safeStorage(g: { localStorage?: StorageLike }): StorageLike | null {
  try {
    // Reading localStorage throws in some privacy modes; the outbox then lives in memory only.
    return g.localStorage ?? null
  } catch {
    return null
  }
}
