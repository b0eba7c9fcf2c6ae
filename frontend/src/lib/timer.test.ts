import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { systemClock } from './env'
import { Timer, backoffDelay } from './timer'
import { RECONNECT_CAP_MS, RECONNECT_FLOOR_MS } from './timing'

describe('backoffDelay', () => {
  it('draws from 0 up to 0.5 s × 2^attempt (full jitter)', () => {
    expect(backoffDelay(0, () => 0.999)).toBe(499)
    expect(backoffDelay(3, () => 0.999)).toBe(3996)
    expect(backoffDelay(3, () => 0.5)).toBe(2000)
  })

  it('never waits less than the floor, so it cannot hot-loop', () => {
    expect(backoffDelay(0, () => 0)).toBe(RECONNECT_FLOOR_MS)
    expect(backoffDelay(5, () => 0)).toBe(RECONNECT_FLOOR_MS)
  })

  it('is capped at 20 s however many attempts failed', () => {
    expect(backoffDelay(30, () => 0.999999)).toBeLessThanOrEqual(RECONNECT_CAP_MS)
    expect(backoffDelay(30, () => 0.999999)).toBeGreaterThan(RECONNECT_CAP_MS - 10)
    expect(backoffDelay(1000, () => 0.5)).toBe(RECONNECT_CAP_MS / 2)
  })

  it('stays within its bounds for any random draw', () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      for (const r of [0, 0.1, 0.37, 0.5, 0.9, 0.999]) {
        const delay = backoffDelay(attempt, () => r)
        expect(delay).toBeGreaterThanOrEqual(RECONNECT_FLOOR_MS)
        expect(delay).toBeLessThanOrEqual(Math.max(RECONNECT_FLOOR_MS, Math.min(RECONNECT_CAP_MS, 500 * 2 ** attempt)))
      }
    }
  })
})

describe('Timer', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('waits longer on each try and starts over after reset', () => {
    const callback = vi.fn()
    const timer = new Timer(callback, systemClock, () => 0.999)
    const start = Date.now()
    expect(timer.scheduleTimeout() - start).toBe(499)
    vi.advanceTimersByTime(498)
    expect(callback).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    expect(callback).toHaveBeenCalledTimes(1)
    expect(timer.scheduleTimeout() - Date.now()).toBe(999)
    expect(timer.scheduleTimeout() - Date.now()).toBe(1998)
    timer.reset()
    expect(timer.pending).toBe(false)
    vi.advanceTimersByTime(5000)
    expect(callback).toHaveBeenCalledTimes(1)
    expect(timer.scheduleTimeout() - Date.now()).toBe(499)
  })

  it('scheduleSoon waits a random pause under its bound and leaves the backoff where it was', () => {
    const callback = vi.fn()
    let draw = 0.5
    const timer = new Timer(callback, systemClock, () => draw)
    expect(timer.scheduleSoon(250) - Date.now()).toBe(125)
    vi.advanceTimersByTime(125)
    expect(callback).toHaveBeenCalledTimes(1)
    draw = 0.999
    expect(timer.scheduleSoon(250) - Date.now()).toBe(249)
    expect(timer.scheduleTimeout() - Date.now()).toBe(499) // the first backoff step still
    expect(timer.pending).toBe(true)
  })

  it('scheduleSoon with a lower bound draws between the two', () => {
    let draw = 0
    const timer = new Timer(vi.fn(), systemClock, () => draw)
    expect(timer.scheduleSoon(1000, 250) - Date.now()).toBe(250)
    draw = 0.5
    expect(timer.scheduleSoon(1000, 250) - Date.now()).toBe(625)
    draw = 0.999
    expect(timer.scheduleSoon(1000, 250) - Date.now()).toBe(999)
  })
})
