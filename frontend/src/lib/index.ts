// The data layer's public API: the UI imports from here only.
export * from './types'
export { createChatClient } from './client'
export { MAX_BODY_LENGTH, ROOM_NAME, bodyLength, trimBody } from './protocol'
export type { ChatEnv } from './env'
export { AVATAR_PALETTE, avatarColour, type AvatarColour } from './avatar'
