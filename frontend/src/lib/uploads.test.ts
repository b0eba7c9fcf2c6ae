import { describe, expect, it } from 'vitest'
import { flush } from './testing/fakes'
import { FakeXhr } from './testing/fakeXhr'
import { startUpload } from './uploadRequest'
import { MAX_PARALLEL_UPLOADS, UploadQueue, type ChosenFile } from './uploads'
import type { Attachment } from './types'

const attachment = (id: string, name: string): Attachment => ({
  id, name, size: 3, content_type: 'application/pdf', url: `/api/uploads/${id}/${name}`, image: null,
})

const file = (name: string, size = 3): ChosenFile => ({ name, size, file: new Blob(['x'.repeat(size)]) })

function queue() {
  FakeXhr.made = []
  const tokens: string[] = []
  const uploads = new UploadQueue((blob, name, progress) =>
    startUpload({
      Xhr: FakeXhr, url: 'http://server/api/uploads', file: blob, name, onProgress: progress,
      csrfToken: async () => {
        tokens.push('asked')
        return 'token-1'
      },
    }),
  )
  const byName = (name: string) => uploads.getState().find((item) => item.name === name)!
  const xhrOf = (name: string) => FakeXhr.made.find((xhr) => xhr.fileName === name)!
  return { uploads, byName, xhrOf, tokens }
}

describe('UploadQueue', () => {
  it('posts each file as multipart with credentials and the CSRF token, and tracks its progress', async () => {
    const { uploads, byName, xhrOf } = queue()
    uploads.add([file('report.pdf')])
    expect(byName('report.pdf')).toMatchObject({ status: 'uploading', progress: 0 })
    await flush()
    const xhr = xhrOf('report.pdf')
    expect(xhr).toMatchObject({ method: 'POST', url: 'http://server/api/uploads', withCredentials: true })
    expect(xhr.headers['X-CSRFToken']).toBe('token-1')
    xhr.progress(1, 4)
    expect(byName('report.pdf').progress).toBe(0.25)
    xhr.respond(201, { upload: attachment('a1', 'report.pdf') })
    await flush()
    expect(byName('report.pdf')).toMatchObject({ status: 'done', progress: 1, attachment: { id: 'a1' } })
  })

  it('uploads a few files at a time, the rest as each finishes', async () => {
    const { uploads, byName, xhrOf } = queue()
    const names = Array.from({ length: MAX_PARALLEL_UPLOADS + 2 }, (_, i) => `f${i}.txt`)
    uploads.add(names.map((name) => file(name)))
    await flush()
    expect(FakeXhr.made).toHaveLength(MAX_PARALLEL_UPLOADS)
    expect(byName(names.at(-1)!).status).toBe('queued')
    expect(uploads.busy).toBe(true)
    xhrOf('f0.txt').respond(201, { upload: attachment('a0', 'f0.txt') })
    await flush()
    expect(FakeXhr.made).toHaveLength(MAX_PARALLEL_UPLOADS + 1)
    for (const xhr of FakeXhr.made.slice(1)) xhr.respond(201, { upload: attachment(`id-${xhr.fileName}`, xhr.fileName) })
    await flush()
    xhrOf(names.at(-1)!).respond(201, { upload: attachment('last', names.at(-1)!) })
    await flush()
    expect(uploads.busy).toBe(false)
    expect(uploads.getState().every((item) => item.status === 'done')).toBe(true)
  })

  it('Remove stops an upload on its way, and its late answer is ignored', async () => {
    const { uploads, byName, xhrOf } = queue()
    uploads.add([file('big.bin'), file('small.txt')])
    await flush()
    const xhr = xhrOf('big.bin')
    uploads.remove(byName('big.bin').key)
    expect(xhr.aborted).toBe(true)
    expect(uploads.getState().map((item) => item.name)).toEqual(['small.txt'])
    xhr.respond(201, { upload: attachment('late', 'big.bin') })
    await flush()
    expect(uploads.getState().map((item) => item.name)).toEqual(['small.txt'])
  })

  it('Remove before the token came back sends nothing at all', async () => {
    const { uploads, byName } = queue()
    uploads.add([file('quick.txt')])
    uploads.remove(byName('quick.txt').key)
    await flush()
    expect(FakeXhr.made).toHaveLength(0)
    expect(uploads.getState()).toEqual([])
  })

  it('shows why an upload failed, in the server’s words when it gave some', async () => {
    const { uploads, byName, xhrOf } = queue()
    uploads.add([file('huge.iso', 500), file('gone.txt'), file('proxy.txt'), file('anon.txt')])
    await flush()
    xhrOf('huge.iso').respond(413, { error: 'Files may be at most 100 bytes' })
    xhrOf('gone.txt').dropConnection()
    xhrOf('proxy.txt').respond(502, '<html>Bad gateway</html>')
    await flush()
    xhrOf('anon.txt').respond(401, '')
    await flush()
    expect(byName('huge.iso')).toMatchObject({ status: 'failed', error: 'Files may be at most 100 bytes', retryable: false })
    expect(byName('gone.txt')).toMatchObject({ status: 'failed', error: 'Cannot reach the server', retryable: true })
    expect(byName('proxy.txt')).toMatchObject({ status: 'failed', error: 'The server answered 502' })
    expect(byName('anon.txt')).toMatchObject({ status: 'failed', error: 'Not logged in any more, log in again' })
    expect(uploads.busy).toBe(false)
  })

  it('after a 413, refuses as large a file at once with the server’s words, and tries smaller ones', async () => {
    const { uploads, byName, xhrOf } = queue()
    uploads.add([file('first.iso', 500)])
    await flush()
    xhrOf('first.iso').respond(413, { error: 'Too big' })
    await flush()
    uploads.add([file('second.iso', 800), file('note.txt', 10)])
    await flush()
    expect(byName('second.iso')).toMatchObject({ status: 'failed', error: 'Too big' })
    expect(FakeXhr.made.map((xhr) => xhr.fileName)).toEqual(['first.iso', 'note.txt'])
  })

  it('Retry uploads a failed file again', async () => {
    const { uploads, byName, xhrOf } = queue()
    uploads.add([file('flaky.txt')])
    await flush()
    xhrOf('flaky.txt').dropConnection()
    await flush()
    uploads.retry(byName('flaky.txt').key)
    await flush()
    FakeXhr.made[1]!.respond(201, { upload: attachment('ok', 'flaky.txt') })
    await flush()
    expect(byName('flaky.txt')).toMatchObject({ status: 'done', error: null })
  })

  it('take() hands over the finished files in order and keeps the failed ones listed', async () => {
    const { uploads, byName, xhrOf } = queue()
    uploads.add([file('a.txt'), file('b.txt'), file('c.txt')])
    await flush()
    xhrOf('b.txt').respond(201, { upload: attachment('id-b', 'b.txt') })
    xhrOf('a.txt').respond(201, { upload: attachment('id-a', 'a.txt') })
    xhrOf('c.txt').respond(400, { error: 'No file' })
    await flush()
    expect(uploads.take().map((a) => a.id)).toEqual(['id-a', 'id-b'])
    expect(uploads.getState().map((item) => item.name)).toEqual(['c.txt'])
    expect(byName('c.txt').error).toBe('No file')
    expect(uploads.take()).toEqual([])
  })

  it('takes at most 10 files per message and says so', () => {
    const { uploads } = queue()
    expect(uploads.add(Array.from({ length: 8 }, (_, i) => file(`${i}.txt`)))).toBeNull()
    expect(uploads.add([file('8.txt'), file('9.txt'), file('10.txt')])).toBe('At most 10 files per message')
    expect(uploads.getState()).toHaveLength(10)
  })

  it('a malformed 201 is a failure, not an attachment', async () => {
    const { uploads, byName, xhrOf } = queue()
    uploads.add([file('odd.txt')])
    await flush()
    xhrOf('odd.txt').respond(201, { upload: { id: 7 } })
    await flush()
    expect(byName('odd.txt')).toMatchObject({ status: 'failed', error: 'The server sent no file' })
  })

  it('clear() stops every upload (logout)', async () => {
    const { uploads } = queue()
    uploads.add([file('a.txt'), file('b.txt')])
    await flush()
    uploads.clear()
    expect(FakeXhr.made.every((xhr) => xhr.aborted)).toBe(true)
    expect(uploads.getState()).toEqual([])
  })
})
