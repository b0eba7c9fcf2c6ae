import { describe, expect, it } from 'vitest'
import type { ClientFrame } from './protocol'
import { ReadMarkers } from './readMarkers'

function markers() {
  const sent: ClientFrame[] = []
  const joined = new Set<string>()
  let up = true
  const read = new ReadMarkers({ joined: (room) => joined.has(room), send: (frame) => up && sent.push(frame) > 0 })
  return { read, sent, joined, down: (isDown: boolean) => (up = !isDown) }
}

describe('read markers', () => {
  it('sends the highest seq shown, never a lower one after it', () => {
    const { read, sent, joined } = markers()
    joined.add('general')
    read.shown('general', 5)
    read.shown('general', 3)
    read.shown('general', 5)
    expect(sent).toEqual([{ type: 'read', room: 'general', seq: 5 }])
  })

  it('waits for the room to be joined, then sends what was shown meanwhile', () => {
    const { read, sent, joined } = markers()
    read.shown('general', 2)
    read.shown('general', 4)
    expect(sent).toEqual([])
    joined.add('general')
    read.send('general')
    expect(sent).toEqual([{ type: 'read', room: 'general', seq: 4 }])
  })

  it('a read the socket could not send goes with the next chance', () => {
    const { read, sent, joined, down } = markers()
    joined.add('general')
    down(true)
    read.shown('general', 7)
    down(false)
    read.send('general')
    expect(sent).toEqual([{ type: 'read', room: 'general', seq: 7 }])
  })

  it('a forgotten room starts again from nothing', () => {
    const { read, sent, joined } = markers()
    joined.add('general')
    read.shown('general', 3)
    read.forget('general')
    read.send('general')
    read.shown('general', 3)
    read.clear()
    read.shown('general', 1)
    expect(sent.map((f) => (f as { seq: number }).seq)).toEqual([3, 3, 1])
  })
})
