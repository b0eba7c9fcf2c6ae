// An XMLHttpRequest for upload tests, answered by the test from the server's side.
import type { XhrLike } from '../env'

/** An XMLHttpRequest the test answers from the server's side. */
export class FakeXhr implements XhrLike {
  static made: FakeXhr[] = []
  method = ''
  url = ''
  withCredentials = false
  headers: Record<string, string> = {}
  body: FormData | null = null
  aborted = false
  status = 0
  responseText = ''
  readonly upload: XhrLike['upload'] = { onprogress: null }
  onload: ((event: unknown) => void) | null = null
  onerror: ((event: unknown) => void) | null = null

  constructor() {
    FakeXhr.made.push(this)
  }
  open(method: string, url: string) {
    this.method = method
    this.url = url
  }
  setRequestHeader(name: string, value: string) {
    this.headers[name] = value
  }
  send(body: FormData) {
    this.body = body
  }
  abort() {
    this.aborted = true
  }

  // ---- the server's side ----
  progress(loaded: number, total: number) {
    this.upload.onprogress?.({ loaded, total, lengthComputable: true })
  }
  respond(status: number, body: unknown) {
    this.status = status
    this.responseText = typeof body === 'string' ? body : JSON.stringify(body)
    this.onload?.({})
  }
  dropConnection() {
    this.onerror?.({})
  }
  get fileName(): string {
    return (this.body?.get('file') as File).name
  }
}
