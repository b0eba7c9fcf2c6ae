// The backoff Timer (after Phoenix's timer.js): each scheduleTimeout waits
// longer than the last, with full jitter so a server restart is not met by every
// tab at the same instant; reset() after a successful connect.
import type { Clock } from './env'
import { RECONNECT_BASE_MS, RECONNECT_CAP_MS, RECONNECT_FLOOR_MS } from './timing'

/** random(0, min(cap, base × 2^attempt)), never under the floor. */
export function backoffDelay(attempt: number, random: () => number): number {
  const ceiling = Math.min(RECONNECT_CAP_MS, RECONNECT_BASE_MS * 2 ** attempt)
  return Math.max(RECONNECT_FLOOR_MS, Math.floor(random() * ceiling))
}

export class Timer {
  private handle: unknown = null
  /** Attempts scheduled since the last reset. */
  tries = 0

  constructor(
    private readonly callback: () => void,
    private readonly clock: Clock,
    private readonly random: () => number,
  ) {}

  reset(): void {
    this.tries = 0
    this.cancel()
  }

  cancel(): void {
    if (this.handle !== null) this.clock.clearTimeout(this.handle)
    this.handle = null
  }

  /** Schedules the callback after the next delay (at least `atLeastMs`); returns when it will run (epoch ms). */
  scheduleTimeout(atLeastMs = 0): number {
    this.cancel()
    const delay = Math.max(atLeastMs, backoffDelay(this.tries, this.random))
    this.tries += 1
    this.handle = this.clock.setTimeout(() => {
      this.handle = null
      this.callback()
    }, delay)
    return this.clock.now() + delay
  }

  /** Schedules the callback within a random pause of `minMs` up to `maxMs`, outside the
   *  backoff (a server restarting asked us back at once); if that try fails, the backoff
   *  starts where it was. Returns when it will run (epoch ms). */
  scheduleSoon(maxMs: number, minMs = 0): number {
    this.cancel()
    const delay = minMs + Math.floor(this.random() * (maxMs - minMs))
    this.handle = this.clock.setTimeout(() => {
      this.handle = null
      this.callback()
    }, delay)
    return this.clock.now() + delay
  }

  get pending(): boolean {
    return this.handle !== null
  }
}
