import { describe, expect, it } from 'vitest'
import { calendarDay, dayLabel, dayNumber, dayOf, msUntilNextDay } from './days'

describe('calendar days', () => {
  it('puts an instant on the day of the given time zone', () => {
    // 2026-11-23 23:30 in New York is already the 24th in UTC and in Tokyo.
    const instant = Date.parse('2026-11-24T04:30:00Z')
    expect(calendarDay(instant, 'America/New_York')).toEqual({ year: 2026, month: 11, day: 23 })
    expect(calendarDay(instant, 'UTC')).toEqual({ year: 2026, month: 11, day: 24 })
    expect(calendarDay(instant, 'Asia/Tokyo')).toEqual({ year: 2026, month: 11, day: 24 })
  })

  it('changes day exactly at local midnight', () => {
    const zone = 'Europe/Paris'
    expect(dayOf('2026-11-23T22:59:59.999Z', zone)).toBe(dayNumber({ year: 2026, month: 11, day: 23 }))
    expect(dayOf('2026-11-23T23:00:00Z', zone)).toBe(dayNumber({ year: 2026, month: 11, day: 24 }))
  })

  it('numbers consecutive days one apart across daylight-saving changes and year ends', () => {
    // New York springs forward on 2026-03-08: that day has 23 hours.
    const zone = 'America/New_York'
    const before = dayOf('2026-03-08T04:59:00Z', zone)
    const after = dayOf('2026-03-09T04:00:00Z', zone)
    expect(after - before).toBe(2)
    expect(dayNumber({ year: 2027, month: 1, day: 1 }) - dayNumber({ year: 2026, month: 12, day: 31 })).toBe(1)
  })

  it('uses the reader’s own zone when none is given', () => {
    const local = new Date(2026, 10, 23, 0, 0, 1).getTime()
    expect(calendarDay(local)).toEqual({ year: 2026, month: 11, day: 23 })
    expect(calendarDay(local - 2_000)).toEqual({ year: 2026, month: 11, day: 22 })
  })

  it('is NaN for what is not a date', () => {
    expect(dayOf('not a date')).toBeNaN()
  })

  it('counts down to the reader’s next midnight', () => {
    const now = new Date(2026, 10, 23, 23, 59, 0).getTime()
    expect(msUntilNextDay(now)).toBe(60_000)
  })
})

describe('day separators', () => {
  const today = { year: 2026, month: 11, day: 25 }
  const on = (year: number, month: number, day: number) => dayNumber({ year, month, day })

  it('says Today and Yesterday, then weekday and date', () => {
    expect(dayLabel(on(2026, 11, 25), today)).toBe('Today')
    expect(dayLabel(on(2026, 11, 24), today)).toBe('Yesterday')
    expect(dayLabel(on(2026, 11, 23), today)).toBe('Monday, November 23')
    expect(dayLabel(on(2026, 1, 1), today)).toBe('Thursday, January 1')
  })

  it('adds the year when it is not this year, also for yesterday’s neighbour across New Year', () => {
    expect(dayLabel(on(2025, 11, 23), today)).toBe('Sunday, November 23, 2025')
    const newYear = { year: 2027, month: 1, day: 1 }
    expect(dayLabel(on(2026, 12, 31), newYear)).toBe('Yesterday')
    expect(dayLabel(on(2026, 12, 30), newYear)).toBe('Wednesday, December 30, 2026')
  })

  it('follows "now": after midnight, today becomes yesterday', () => {
    const zone = 'Pacific/Auckland'
    const written = dayOf('2026-11-25T10:30:00Z', zone) // 23:30 on the 25th in Auckland
    const beforeMidnight = calendarDay(Date.parse('2026-11-25T10:59:00Z'), zone)
    const afterMidnight = calendarDay(Date.parse('2026-11-25T11:01:00Z'), zone)
    expect(dayLabel(written, beforeMidnight)).toBe('Today')
    expect(dayLabel(written, afterMidnight)).toBe('Yesterday')
  })
})
