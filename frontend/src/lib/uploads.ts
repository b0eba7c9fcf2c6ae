// The files waiting to go with the next message of one room: each is uploaded
// as soon as it is chosen (a few at a time), shows its progress, and can be
// removed, which stops its upload. Sending takes the finished ones as
// attachments; the files are on the server by then, so the message itself is
// small and the outbox may resend it after a reconnect or a reload.
import { MAX_ATTACHMENTS } from './protocol'
import { createStore, type WritableStore } from './store'
import { UploadError, type UploadHandle } from './uploadRequest'
import type { Attachment, Store } from './types'

/** Uploads running at once per room: enough to fill the line, few enough that each shows progress. */
export const MAX_PARALLEL_UPLOADS = 3

export interface UploadItem {
  /** Distinct per file chosen, for Remove. */
  key: string
  name: string
  size: number
  status: 'queued' | 'uploading' | 'done' | 'failed'
  /** The share sent, 0 to 1. */
  progress: number
  attachment: Attachment | null
  /** Why it failed, for people. */
  error: string | null
  /** Failed in a way that trying again may mend (the network, the server), not for being too big. */
  retryable: boolean
}

/** Answers that the same file will get again. */
const FINAL_STATUSES = new Set([400, 413])

/** Starts one file's upload; `progress` hears the share sent. */
export type StartUpload = (file: Blob, name: string, progress: (fraction: number) => void) => UploadHandle

/** A file as the picker, a drop or a paste gives it. */
export interface ChosenFile {
  readonly name: string
  readonly size: number
  readonly file: Blob
}

export class UploadQueue implements Store<UploadItem[]> {
  private readonly store: WritableStore<UploadItem[]> = createStore<UploadItem[]>([])
  private readonly files = new Map<string, ChosenFile>()
  private readonly running = new Map<string, UploadHandle>()
  /** The smallest size the server refused as too big, and its words: larger files need not be tried. */
  private refusedSize: { size: number; error: string } | null = null
  private counter = 0

  constructor(private readonly start: StartUpload) {}

  getState = (): UploadItem[] => this.store.getState()
  subscribe = (listener: () => void): (() => void) => this.store.subscribe(listener)

  /** Queues the files; answers why some were left out (over the per-message limit), else null. */
  add(chosen: readonly ChosenFile[]): string | null {
    const room = MAX_ATTACHMENTS - this.getState().filter((item) => item.status !== 'failed').length
    const taken = chosen.slice(0, Math.max(0, room))
    const added: UploadItem[] = taken.map((file) => {
      const key = `upload-${++this.counter}`
      this.files.set(key, file)
      const tooBig = this.refusedSize !== null && file.size >= this.refusedSize.size
      return {
        key, name: file.name, size: file.size, progress: 0, attachment: null, retryable: false,
        status: tooBig ? 'failed' : 'queued', error: tooBig ? this.refusedSize!.error : null,
      }
    })
    this.store.setState((items) => [...items, ...added])
    this.pump()
    return taken.length < chosen.length ? `At most ${MAX_ATTACHMENTS} files per message` : null
  }

  /** Drops the file, stopping its upload if it is on its way. */
  remove(key: string): void {
    this.running.get(key)?.abort()
    this.running.delete(key)
    this.files.delete(key)
    this.store.setState((items) => items.filter((item) => item.key !== key))
    this.pump()
  }

  /** Tries a failed file again. */
  retry(key: string): void {
    this.patch(key, (item) => (item.status === 'failed' ? { status: 'queued', progress: 0, error: null } : {}))
    this.pump()
  }

  /** Some file is still on its way: its message must wait. */
  get busy(): boolean {
    return this.getState().some((item) => item.status === 'queued' || item.status === 'uploading')
  }

  /** The uploaded files, for a message about to be sent; they leave the queue (failed ones stay). */
  take(): Attachment[] {
    const done = this.getState().filter((item) => item.status === 'done')
    for (const item of done) this.files.delete(item.key)
    this.store.setState((items) => items.filter((item) => item.status !== 'done'))
    return done.map((item) => item.attachment!)
  }

  /** Stops and forgets everything (logout). */
  clear(): void {
    for (const handle of this.running.values()) handle.abort()
    this.running.clear()
    this.files.clear()
    this.refusedSize = null
    this.store.setState([])
  }

  private pump(): void {
    for (const item of this.getState()) {
      if (this.running.size >= MAX_PARALLEL_UPLOADS) return
      if (item.status === 'queued') this.begin(item)
    }
  }

  private begin(item: UploadItem): void {
    const file = this.files.get(item.key)
    if (!file) return
    const { key } = item
    this.patch(key, () => ({ status: 'uploading' }))
    const handle = this.start(file.file, file.name, (progress) => this.patch(key, () => ({ progress })))
    this.running.set(key, handle)
    handle.done.then(
      (attachment) => this.finish(key, handle, { status: 'done', progress: 1, attachment }),
      (error: unknown) => {
        const message = error instanceof UploadError ? error.message : 'Could not upload'
        if (error instanceof UploadError && error.status === 413) this.learnLimit(file.size, message)
        const retryable = !(error instanceof UploadError && FINAL_STATUSES.has(error.status))
        this.finish(key, handle, { status: 'failed', error: message, retryable })
      },
    )
  }

  private finish(key: string, handle: UploadHandle, patch: Partial<UploadItem>): void {
    // Removed meanwhile (or removed and chosen again): not this upload's to report.
    if (this.running.get(key) !== handle) return
    this.running.delete(key)
    this.patch(key, () => patch)
    this.pump()
  }

  private learnLimit(size: number, error: string): void {
    if (this.refusedSize === null || size < this.refusedSize.size) this.refusedSize = { size, error }
  }

  private patch(key: string, change: (item: UploadItem) => Partial<UploadItem>): void {
    this.store.setState((items) => items.map((item) => (item.key === key ? { ...item, ...change(item) } : item)))
  }
}
