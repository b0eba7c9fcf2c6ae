// What the person writes, on its way to the server: new messages through the
// outbox, edits, deletes and reactions through the change queue. Each is shown
// at once and sent once its room is joined on the socket.
import { ChangeQueue } from './changes'
import type { ChatEnv } from './env'
import type { JoinedRooms } from './joinedRooms'
import { INVALID_BODY_ERROR, Outbox } from './outbox'
import { MAX_BODY_LENGTH, bodyLength, trimBody, type ChangedFrame, type RequestFrame, type ServerFrame } from './protocol'
import type { Room } from './room'
import type { Attachment, Message, MessageChange, PendingMessage, User } from './types'

export interface OutgoingParts {
  env: Pick<ChatEnv, 'storage' | 'clock' | 'random' | 'randomId'>
  request(frame: RequestFrame): Promise<ServerFrame>
  room(name: string): Room
  joinedRooms: JoinedRooms
  user(): User | null
  /** The person is no longer typing in the room. */
  stopTyping(room: string): void
}

export class Outgoing {
  readonly outbox: Outbox
  readonly changes: ChangeQueue

  constructor(private readonly parts: OutgoingParts) {
    const { env, request, room, joinedRooms } = parts
    this.outbox = new Outbox(
      env.storage,
      {
        transmit: (m) =>
          request({
            type: 'send', room: m.room, body: m.body, client_id: m.client_id,
            ...(m.reply_to ? { reply_to: m.reply_to.seq } : {}),
            ...(m.attachments?.length ? { attachments: m.attachments.map((a) => a.id) } : {}),
          }),
        changed: (name) => room(name).setPending(this.outbox.forRoom(name)),
        ready: (name) => room(name).joinedOnSocket,
        rejoin: (name) => joinedRooms.rejoin(name),
      },
      env.clock,
      env.random,
    )
    this.changes = new ChangeQueue(
      env.storage,
      {
        async transmit({ room: name, seq, change }) {
          const frame =
            change.kind === 'edit'
              ? await request({ type: 'edit', room: name, seq, body: change.body })
              : change.kind === 'delete'
                ? await request({ type: 'delete', room: name, seq })
                : await request({ type: 'react', room: name, seq, emoji: change.emoji, active: change.active })
          return (frame as ChangedFrame).message
        },
        applied: (message) => room(message.room).receive(message),
        changed: (name) => room(name).setChanges(this.changes.forRoom(name)),
        ready: (name) => room(name).joinedOnSocket,
        rejoin: (name) => joinedRooms.rejoin(name),
      },
      env.clock,
      env.random,
    )
  }

  send(name: string, body: string, replyTo?: Message, attachments: readonly Attachment[] = []): void {
    const { env } = this.parts
    const user = this.parts.user()
    const text = trimBody(body)
    if (!user || (text === '' && attachments.length === 0)) return
    this.parts.stopTyping(name)
    const tooLong = bodyLength(text) > MAX_BODY_LENGTH
    const message: PendingMessage = {
      client_id: env.randomId(),
      room: name,
      body: text,
      author: user,
      created_at: new Date(env.clock.now()).toISOString(),
      status: tooLong ? 'failed' : 'sending',
      error: tooLong ? INVALID_BODY_ERROR : null,
      reply_to: replyTo ? { seq: replyTo.seq, author: replyTo.author, excerpt: Array.from(replyTo.body).slice(0, 100).join('') } : null,
      ...(attachments.length > 0 ? { attachments: [...attachments] } : {}),
    }
    this.outbox.add(message)
    this.parts.joinedRooms.open(name)
    this.outbox.flush()
  }

  retry(name: string, clientId: string): void {
    if (!this.outbox.retry(clientId)) return
    this.parts.joinedRooms.reopen(name)
    this.outbox.flush()
  }

  /** An edit, delete or reaction: shown at once, sent once the room is joined. */
  change(name: string, seq: number, what: MessageChange): void {
    if (!this.parts.user()) return
    this.changes.add({ id: this.parts.env.randomId(), room: name, seq, change: what, status: 'sending', error: null })
    this.parts.joinedRooms.open(name)
    this.changes.flush()
  }

  retryChange(name: string, id: string): void {
    if (!this.changes.retry(id)) return
    this.parts.joinedRooms.open(name)
    this.changes.flush()
  }
}
