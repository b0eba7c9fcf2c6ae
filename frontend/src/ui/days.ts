// Calendar days as the reader lives them, and what the log's day separators
// say. Pure: the time zone (the reader's own when not given) and "today" are
// arguments, so midnight and time-zone edges are unit-tested with fixed values.

/** A date on the reader's calendar; month is 1–12. */
export interface CalendarDay {
  year: number
  month: number
  day: number
}

const MS_PER_DAY = 86_400_000
const partsByZone = new Map<string, Intl.DateTimeFormat>()

function zoneFormat(timeZone: string): Intl.DateTimeFormat {
  let format = partsByZone.get(timeZone)
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric' })
    partsByZone.set(timeZone, format)
  }
  return format
}

/** The calendar day an instant (epoch ms) falls on, in `timeZone` or the reader's own. */
export function calendarDay(instant: number, timeZone?: string): CalendarDay {
  if (timeZone === undefined) {
    // The reader's zone: Date's local getters are much cheaper than Intl for 10,000 rows.
    const date = new Date(instant)
    return { year: date.getFullYear(), month: date.getMonth() + 1, day: date.getDate() }
  }
  const parts = zoneFormat(timeZone).formatToParts(instant)
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value)
  return { year: part('year'), month: part('month'), day: part('day') }
}

/** Days since 1970-01-01 of a calendar day: consecutive days differ by exactly 1, DST or not. */
export function dayNumber(day: CalendarDay): number {
  return Math.round(Date.UTC(day.year, day.month - 1, day.day) / MS_PER_DAY)
}

/** The day number of an ISO instant on the reader's calendar; NaN when it is not a date. */
export function dayOf(iso: string, timeZone?: string): number {
  const instant = Date.parse(iso)
  return Number.isNaN(instant) ? NaN : dayNumber(calendarDay(instant, timeZone))
}

const weekdayMonthDay = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', weekday: 'long', month: 'long', day: 'numeric' })
const withYear = new Intl.DateTimeFormat('en-US', {
  timeZone: 'UTC', weekday: 'long', month: 'long', day: 'numeric', year: 'numeric',
})

/**
 * What a day separator says: `Today`, `Yesterday`, else `Monday, November 23`,
 * with the year when it is not this year (`Sunday, November 23, 2025`).
 */
export function dayLabel(day: number, today: CalendarDay): string {
  const difference = dayNumber(today) - day
  if (difference === 0) return 'Today'
  if (difference === 1) return 'Yesterday'
  const noonUtc = day * MS_PER_DAY + MS_PER_DAY / 2
  const sameYear = new Date(noonUtc).getUTCFullYear() === today.year
  return (sameYear ? weekdayMonthDay : withYear).format(noonUtc)
}

/** Milliseconds from `now` until the reader's next midnight (when `Today` becomes `Yesterday`). */
export function msUntilNextDay(now: number): number {
  const date = new Date(now)
  const midnight = new Date(date.getFullYear(), date.getMonth(), date.getDate() + 1).getTime()
  return Math.max(1, midnight - now)
}
