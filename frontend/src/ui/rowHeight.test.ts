import { describe, expect, it } from 'vitest'
import { V2_FIELDS } from '../lib/testing/fakes'
import { estimateRow } from './rowHeight'
import type { LogEntry } from './view'

const entry = (patch: Partial<LogEntry> = {}): LogEntry => ({
  kind: 'stored', key: 's1', continues: false, day: 0, startsDay: false,
  message: {
    id: 1, room: 'r', seq: 1, author: { id: 1, username: 'a' }, body: 'hi', created_at: '2026-11-25T10:00:00Z', client_id: 'c1',
    ...V2_FIELDS,
  },
  ...patch,
} as LogEntry)

describe('a row height guessed before measuring', () => {
  it('a header row is taller than one that continues its group', () => {
    expect(estimateRow(entry(), null)).toBe(56)
    expect(estimateRow(entry({ continues: true }), null)).toBe(26)
  })

  it('adds the day separator and the New messages line', () => {
    expect(estimateRow(entry({ startsDay: true }), 's1')).toBe(56 + 44 + 36)
    expect(estimateRow(entry({ startsDay: true }), 'other')).toBe(56 + 44)
  })

  it('a row not there yet gets a default', () => {
    expect(estimateRow(undefined, null)).toBe(48)
  })
})
