// Asking the server for this user's room list (`rooms`): after every connect,
// about every minute, when the tab comes back, and whenever a frame shows the
// list is behind. Asks that come while one is on its way become one more ask
// after it, so a burst of them costs two requests, not a burst.
import type { ChatEnv } from './env'
import type { RequestFrame, RoomInfo, RoomsFrame, ServerFrame } from './protocol'
import { PushError } from './push'
import { ROOMS_REFRESH_MS } from './timing'

export interface RoomsRefreshHost {
  request(frame: RequestFrame): Promise<ServerFrame>
  connected(): boolean
  /** The server's answer: every room this user may list. */
  answered(rooms: readonly RoomInfo[]): void
}

export class RoomsRefresh {
  private timer: unknown = null
  /** A `rooms` request is on its way; `again` asks once more when it is answered. */
  private asked = false
  private again = false

  constructor(
    private readonly host: RoomsRefreshHost,
    private readonly env: Pick<ChatEnv, 'clock' | 'window' | 'document'>,
  ) {
    env.window?.addEventListener('focus', this.onTabBack)
    env.document?.addEventListener('visibilitychange', this.onTabBack)
  }

  /** Asks for `rooms`; while one is on its way, asks once more after it instead (coalesced). */
  request(): void {
    if (this.asked) {
      this.again = true
      return
    }
    this.stop()
    this.timer = this.env.clock.setTimeout(() => this.request(), ROOMS_REFRESH_MS)
    this.asked = true
    this.again = false
    this.host.request({ type: 'rooms' }).then(
      (frame) => this.host.answered((frame as RoomsFrame).rooms),
      (error: unknown) => {
        if (!(error instanceof PushError && error.code === 'disconnected')) console.warn('chat: could not list rooms', error)
      },
    ).finally(() => {
      this.asked = false
      if (this.again && this.host.connected()) this.request()
    })
  }

  /** No more asking every minute (until the next request). */
  stop(): void {
    if (this.timer !== null) this.env.clock.clearTimeout(this.timer)
    this.timer = null
  }

  /** The session ended: an ask held back is not made. */
  reset(): void {
    this.stop()
    this.again = false
  }

  dispose(): void {
    this.env.window?.removeEventListener('focus', this.onTabBack)
    this.env.document?.removeEventListener('visibilitychange', this.onTabBack)
  }

  private readonly onTabBack = () => {
    if (this.host.connected() && this.env.document?.visibilityState !== 'hidden') this.request()
  }
}
