// Messages with files: the upload queue a room's composer uses, and the ids a
// send carries through the outbox (reconnect, reload).
import { beforeEach, describe, expect, it } from 'vitest'
import { parseServerFrame } from './protocol'
import { testClients } from './testing/clients'
import { FakeServer, MemoryStorage, V2_FIELDS, alice, flush } from './testing/fakes'
import { FakeXhr } from './testing/fakeXhr'
import type { Attachment } from './types'

const { started } = testClients({ XMLHttpRequest: FakeXhr })
beforeEach(() => {
  FakeXhr.made = []
})

const photo: Attachment = {
  id: 'u1', name: 'cat.png', size: 2048, content_type: 'image/png', url: '/api/uploads/u1/cat.png',
  image: { width: 800, height: 600, thumbnail_url: '/api/uploads/u1/thumbnail' },
}
const pdf: Attachment = {
  id: 'u2', name: 'report.pdf', size: 1234, content_type: 'application/pdf', url: '/api/uploads/u2/report.pdf', image: null,
}

describe('attachments', () => {
  it('a room’s upload queue posts to the server’s /api/uploads with the CSRF cookie’s token', async () => {
    const server = new FakeServer()
    const client = await started(server)
    expect(client.uploads('general')).toBe(client.uploads('general'))
    client.uploads('general').add([{ name: 'report.pdf', size: 4, file: new Blob(['%PDF']) }])
    await flush()
    const [xhr] = FakeXhr.made
    expect(xhr).toMatchObject({ method: 'POST', url: 'http://api/api/uploads', withCredentials: true })
    expect(xhr!.headers['X-CSRFToken']).toBe('tok')
    xhr!.respond(201, { upload: pdf })
    await flush()
    expect(client.uploads('general').take()).toEqual([pdf])
    expect(client.fileUrl(pdf.url)).toBe('http://api/api/uploads/u2/report.pdf')
    expect(client.fileUrl('https://cdn.example/x.png')).toBe('https://cdn.example/x.png')
  })

  it('sends the ids, may have an empty body, and shows the files on the message while it is on its way', async () => {
    const server = new FakeServer()
    const client = await started(server)
    server.acceptAll()
    client.open('general')
    await flush()
    server.holdSends = true
    client.send('general', '  ', undefined, [photo, pdf])
    expect(client.room('general').getState().pending).toEqual([
      expect.objectContaining({ body: '', status: 'sending', attachments: [photo, pdf] }),
    ])
    await flush()
    expect(server.sent('send')).toEqual([expect.objectContaining({ body: '', attachments: ['u1', 'u2'] })])
    client.send('general', '   ')
    client.send('general', 'plain')
    await flush()
    expect(client.room('general').getState().pending.map((p) => p.body)).toEqual(['', 'plain'])
    server.holdSends = false
  })

  it('a message without files sends no attachments key (an older server takes it)', async () => {
    const server = new FakeServer()
    const client = await started(server)
    server.acceptAll()
    client.open('general')
    await flush()
    client.send('general', 'just words')
    await flush()
    expect(server.sent('send')[0]).not.toHaveProperty('attachments')
  })

  it('keeps the ids across a reload: the next page sends them again with the same client_id', async () => {
    const storage = new MemoryStorage()
    const server = new FakeServer()
    const first = await started(server, { storage })
    server.acceptAll()
    first.open('general')
    await flush()
    server.answering = false
    first.send('general', 'look', undefined, [photo])
    await flush()
    first.dispose()
    server.answering = true
    const second = await started(server, { storage })
    expect(second.room('general').getState().pending).toEqual([expect.objectContaining({ body: 'look', attachments: [photo] })])
    server.acceptAll()
    await flush()
    expect(server.sent('send').map((f) => [f.client_id, f.attachments])).toEqual([['cid-1', ['u1']], ['cid-1', ['u1']]])
  })

  it('a stored outbox entry with a malformed attachment is dropped, not sent', async () => {
    const storage = new MemoryStorage()
    storage.setItem(`chat.outbox.${alice.id}`, JSON.stringify({
      bad: { client_id: 'bad', room: 'general', body: 'x', author: alice, created_at: '2026-11-21T10:00:00.000Z', status: 'sending', error: null, attachments: [{ id: 3 }] },
    }))
    const server = new FakeServer()
    const client = await started(server, { storage })
    expect(client.room('general').getState().pending).toEqual([])
  })

  it('a message frame gets [] for attachments from a server that sends none, and keeps valid ones', () => {
    const base = { id: 1, room: 'general', seq: 1, author: alice, body: 'hi', created_at: 'x', client_id: 'c', ...V2_FIELDS }
    const old = parseServerFrame(JSON.stringify({ type: 'message', room: 'general', message: base }))
    expect(old).toMatchObject({ message: { attachments: [] } })
    const withFiles = parseServerFrame(JSON.stringify({ type: 'message', room: 'general', message: { ...base, attachments: [photo, pdf] } }))
    expect(withFiles).toMatchObject({ message: { attachments: [photo, pdf] } })
    const bad = { ...base, attachments: [{ ...pdf, image: { width: 1 } }] }
    expect(parseServerFrame(JSON.stringify({ type: 'message', room: 'general', message: bad }))).toBeNull()
  })
})
