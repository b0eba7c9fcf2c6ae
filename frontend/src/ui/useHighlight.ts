import { useEffect, useState } from 'react'

/** How long the message a reply's quote leads to stays highlighted. */
const HIGHLIGHT_MS = 2_000

/** The seq of the message shown highlighted, which fades by itself after a moment. */
export function useHighlight(): [number | null, (seq: number | null) => void] {
  const [highlight, setHighlight] = useState<number | null>(null)
  useEffect(() => {
    if (highlight === null) return
    const timer = window.setTimeout(() => setHighlight(null), HIGHLIGHT_MS)
    return () => window.clearTimeout(timer)
  }, [highlight])
  return [highlight, setHighlight]
}
