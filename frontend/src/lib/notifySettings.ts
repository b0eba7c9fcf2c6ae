// This person's notification level per room, as the server keeps it for all of
// their devices: asked for after every connect (`notify_settings`), set with
// `notify`, and followed live when another device of theirs changes one (the
// same `notify` frame, unasked).
import type { NotifyLevels } from './notify'
import type { NotifyFrame, NotifyLevel, NotifySettingsFrame, RequestFrame, ServerFrame } from './protocol'
import { PushError } from './push'
import { createStore } from './store'

export class NotifySettings {
  readonly store = createStore<NotifyLevels>({})
  /** Rooms set since the last `notify_settings` was asked: its (older) answer must not undo them. */
  private setMeanwhile = new Map<string, NotifyLevel>()

  constructor(private readonly request: (frame: RequestFrame) => Promise<ServerFrame>) {}

  /** Asks for every level (after a connect: another device may have changed some meanwhile). */
  load(): void {
    this.setMeanwhile.clear()
    this.request({ type: 'notify_settings' }).then(
      (frame) => {
        const levels = { ...(frame as NotifySettingsFrame).rooms }
        for (const [room, level] of this.setMeanwhile) levels[room] = level
        this.store.setState(levels)
      },
      (error: unknown) => {
        // Without them every room keeps its default level; the next connect asks again.
        if (!(error instanceof PushError && error.code === 'disconnected')) console.warn('chat: could not read notification levels', error)
      },
    )
  }

  /** A `notify` frame: the answer to ours, or another device's change. */
  apply(frame: NotifyFrame): void {
    this.setMeanwhile.set(frame.room, frame.level)
    if (this.store.getState()[frame.room] === frame.level) return
    this.store.setState((levels) => ({ ...levels, [frame.room]: frame.level }))
  }

  /** Sets a room's level on the server; resolves once it is kept, rejects with the server's error. */
  async set(room: string, level: NotifyLevel): Promise<void> {
    this.apply((await this.request({ type: 'notify', room, level })) as NotifyFrame)
  }

  /** The person lost the room: the server forgets its level too. */
  forget(room: string): void {
    if (!Object.hasOwn(this.store.getState(), room)) return
    this.store.setState((levels) => Object.fromEntries(Object.entries(levels).filter(([name]) => name !== room)))
  }

  reset(): void {
    this.setMeanwhile.clear()
    this.store.setState({})
  }
}
