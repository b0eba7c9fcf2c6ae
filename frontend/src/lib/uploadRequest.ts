// One file's POST /api/uploads. XMLHttpRequest rather than fetch because only
// it reports how much of the body has gone out; like every other write of the
// app it carries the session cookie and Django's CSRF token.
import { errorOf } from './api'
import type { XhrFactory } from './env'
import { isAttachment } from './protocol'
import type { Attachment } from './types'

/** Why an upload did not become an attachment, in words for people. */
export class UploadError extends Error {
  constructor(message: string, readonly status: number) {
    super(message)
    this.name = 'UploadError'
  }
}

/** For answers without the server's own `{"error"}` text (a proxy's page, a dropped connection). */
const FALLBACK_ERRORS: Record<number, string> = {
  0: 'Cannot reach the server',
  401: 'Not logged in any more, log in again',
  413: 'The file is too big for the server',
}

export interface UploadHandle {
  /** The stored file; rejects with UploadError (never settles once aborted). */
  done: Promise<Attachment>
  /** Stops sending; the promise is left pending, since nobody waits for it any more. */
  abort(): void
}

export interface UploadRequest {
  Xhr: XhrFactory
  /** POST /api/uploads on the server's origin. */
  url: string
  file: Blob
  name: string
  csrfToken(): Promise<string | null>
  /** The share of the body sent so far, 0 to 1. */
  onProgress(fraction: number): void
}

export function startUpload(request: UploadRequest): UploadHandle {
  let aborted = false
  let xhr: InstanceType<XhrFactory> | null = null
  const done = new Promise<Attachment>((resolve, reject) => {
    request.csrfToken().then(
      (token) => {
        if (aborted) return
        xhr = send(request, token, resolve, reject)
      },
      () => {
        if (!aborted) reject(new UploadError(FALLBACK_ERRORS[0]!, 0))
      },
    )
  })
  return {
    done,
    abort() {
      aborted = true
      xhr?.abort()
    },
  }
}

function send(
  request: UploadRequest, token: string | null, resolve: (a: Attachment) => void, reject: (e: UploadError) => void,
) {
  const xhr = new request.Xhr()
  xhr.open('POST', request.url)
  xhr.withCredentials = true
  xhr.setRequestHeader('Accept', 'application/json')
  if (token) xhr.setRequestHeader('X-CSRFToken', token)
  xhr.upload.onprogress = (event) => {
    if (event.lengthComputable && event.total > 0) request.onProgress(Math.min(1, event.loaded / event.total))
  }
  xhr.onload = () => {
    const body = parse(xhr.responseText)
    if (xhr.status === 201 || xhr.status === 200) {
      const upload = (body as { upload?: unknown } | null)?.upload
      if (isAttachment(upload)) resolve(upload)
      else reject(new UploadError('The server sent no file', xhr.status))
      return
    }
    reject(new UploadError(errorText(body, xhr.status), xhr.status))
  }
  xhr.onerror = () => reject(new UploadError(FALLBACK_ERRORS[0]!, 0))
  const form = new FormData()
  // The name goes separately: a pasted image is a Blob whose File name the browser made up.
  form.append('file', request.file, request.name)
  xhr.send(form)
  return xhr
}

function parse(text: string): unknown {
  try {
    return text ? JSON.parse(text) : null
  } catch {
    return null // an HTML error page from a proxy: the status speaks for it
  }
}

function errorText(body: unknown, status: number): string {
  const own = (body as { error?: unknown } | null)?.error
  if (typeof own === 'string' && own) return own
  return FALLBACK_ERRORS[status] ?? errorOf(body, status).message
}
