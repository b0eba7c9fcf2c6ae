// The data layer's public API: the UI imports from here only.
export * from './types'
export { createChatClient } from './client'
export { MAX_BODY_LENGTH, ROOM_NAME, bodyLength, trimBody } from './protocol'
export type { ChatEnv } from './env'
export { AVATAR_PALETTE, avatarColour, type AvatarColour } from './avatar'
export { MAX_DM_OTHERS, MAX_TOPIC_LENGTH } from './protocol'
export { unknownRoom } from './rooms'
export { PushError } from './push'
export { ROOM_REFUSED } from './room'
export {
  NOTIFY_LEVELS, defaultLevel, levelOf, notificationTag, notificationText, shouldNotify, type NotifyLevel, type NotifyLevels,
} from './notify'
