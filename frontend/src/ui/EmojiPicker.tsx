import { Dialog } from './Dialog'

/**
 * A short curated list rather than a full picker: 24 emoji cover most
 * reactions, cost nothing in the bundle and need no data from elsewhere.
 * Any other emoji arrives from other clients and shows (and toggles) as usual.
 */
export const REACTION_EMOJI = [
  '👍', '👎', '❤️', '😂', '🎉', '😮', '😢', '😡', '🙏', '👀', '🔥', '✅',
  '❌', '👏', '🚀', '💯', '🤔', '😊', '😅', '🙌', '💡', '⚠️', '➕', '🐛',
] as const

/** `Add reaction`: a dialog of emoji buttons, each named by its emoji. */
export function EmojiPicker({ onPick, onClose }: { onPick(emoji: string): void; onClose(): void }) {
  return (
    <Dialog title="Add reaction" onClose={onClose}>
      <div className="emoji-grid">
        {REACTION_EMOJI.map((emoji, i) => (
          <button key={emoji} type="button" className="emoji-button" autoFocus={i === 0} onClick={() => onPick(emoji)}>
            {emoji}
          </button>
        ))}
      </div>
    </Dialog>
  )
}
