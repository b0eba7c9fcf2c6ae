import { useEffect, useState } from 'react'
import { calendarDay, msUntilNextDay, type CalendarDay } from './days'

/** The reader's today, renewed at their midnight so `Today` turns into `Yesterday`. */
export function useToday(): CalendarDay {
  const [today, setToday] = useState(() => calendarDay(Date.now()))
  useEffect(() => {
    const timer = window.setTimeout(() => setToday(calendarDay(Date.now())), msUntilNextDay(Date.now()))
    return () => window.clearTimeout(timer)
  }, [today])
  return today
}
