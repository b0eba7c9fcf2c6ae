// One request waiting on its `ref` (after Phoenix's push.js): settled by the
// reply or the error that carries the same ref, or failed after a timeout so the
// person sees a failure instead of waiting forever.
import type { Clock } from './env'
import type { ErrorFrame, RequestFrame, ServerFrame } from './protocol'
import { PUSH_TIMEOUT_MS } from './timing'

/** Why a request failed: an error frame's code, 'timeout', or 'disconnected'. */
export class PushError extends Error {
  readonly code: string
  constructor(code: string, detail: string) {
    super(detail)
    this.name = 'PushError'
    this.code = code
  }
}

interface Waiting {
  resolve: (frame: ServerFrame) => void
  reject: (error: PushError) => void
  timer: unknown
}

/** The requests of one socket that still wait for their answer. */
export class PushTable {
  private readonly waiting = new Map<string, Waiting>()
  private counter = 0

  constructor(private readonly clock: Clock, private readonly timeoutMs = PUSH_TIMEOUT_MS) {}

  /**
   * Sends `frame` with a fresh ref through `transmit`; the promise settles with
   * the reply, or rejects with a PushError (error frame, timeout, disconnect).
   */
  request<F extends RequestFrame>(
    frame: F,
    transmit: (frame: F & { ref: string }) => boolean,
  ): Promise<ServerFrame> {
    const ref = String(++this.counter)
    return new Promise<ServerFrame>((resolve, reject) => {
      // Registered before sending, so even an instant answer finds its request.
      const timer = this.clock.setTimeout(() => {
        this.waiting.delete(ref)
        reject(new PushError('timeout', 'No answer from the server'))
      }, this.timeoutMs)
      this.waiting.set(ref, { resolve, reject, timer })
      if (!transmit({ ...frame, ref })) {
        this.waiting.delete(ref)
        this.clock.clearTimeout(timer)
        reject(new PushError('disconnected', 'Not connected'))
      }
    })
  }

  /** Settles the request this frame answers; false when it answers none. */
  settle(frame: ServerFrame): boolean {
    const ref = 'ref' in frame ? frame.ref : undefined
    if (ref === undefined) return false
    const entry = this.waiting.get(ref)
    if (!entry) return false
    this.waiting.delete(ref)
    this.clock.clearTimeout(entry.timer)
    if (frame.type === 'error') {
      const error = frame as ErrorFrame
      entry.reject(new PushError(error.code, error.detail))
    } else {
      entry.resolve(frame)
    }
    return true
  }

  /** The socket closed: nothing in flight will be answered on it. */
  rejectAll(): void {
    const entries = [...this.waiting.values()]
    this.waiting.clear()
    for (const entry of entries) {
      this.clock.clearTimeout(entry.timer)
      entry.reject(new PushError('disconnected', 'Connection lost'))
    }
  }
}
