// The virtual message log's guess at a row's height, before the row is
// rendered and measured: close guesses keep the scrollbar from jumping.
import { attachmentsHeight } from './attachments'
import type { LogEntry } from './view'

/** A first guess at a row's height until it is measured: a header, a day separator, the unread line. */
export function estimateRow(entry: LogEntry | undefined, unreadKey: string | null): number {
  if (!entry) return 48
  return (
    (entry.continues ? 26 : 56) + (entry.startsDay ? 44 : 0) + (entry.key === unreadKey ? 36 : 0) +
    attachmentsHeight(entry.message.attachments)
  )
}
