// The data layer's public API: the UI imports from here only.
export * from './types'
export { createChatClient } from './client'
export { ROOM_NAME } from './protocol'
export type { ChatEnv } from './env'
