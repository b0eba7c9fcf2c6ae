// `@` suggestions in the composer as pure functions: the word being typed
// after `@`, who may be meant (members, people here, recent authors), and the
// text with the choice put in.
import type { Message, User } from '../lib'

/** The most suggestions shown at once. */
export const MAX_SUGGESTIONS = 8
/** Recent authors are looked for among this many newest messages. */
const RECENT_MESSAGES = 200

/** The `@word` right before the caret: where it starts and what is typed after `@`; null when none. */
export function mentionQuery(text: string, caret: number): { start: number; query: string } | null {
  const match = /(^|\s)@([\w.+-]*)$/.exec(text.slice(0, caret))
  if (!match) return null
  return { start: match.index + match[1]!.length, query: match[2]! }
}

/**
 * Usernames that start with `query` (any case): the room's members, the
 * people here, then recent authors, each once, never me; those whose name
 * starts with the query as typed, shortest first.
 */
export function mentionCandidates(
  query: string, me: User, sources: { members: readonly User[] | null; present: readonly User[]; messages: readonly Message[] },
): string[] {
  const names = new Set<string>()
  for (const user of sources.members ?? []) names.add(user.username)
  for (const user of sources.present) names.add(user.username)
  for (let i = sources.messages.length - 1; i >= Math.max(0, sources.messages.length - RECENT_MESSAGES); i--) {
    names.add(sources.messages[i]!.author.username)
  }
  names.delete(me.username)
  const wanted = query.toLowerCase()
  return [...names]
    .filter((name) => name.toLowerCase().startsWith(wanted))
    .sort((a, b) => a.length - b.length || a.localeCompare(b))
    .slice(0, MAX_SUGGESTIONS)
}

/** The text with the `@query` at `start` replaced by `@username ` and where the caret goes. */
export function insertMention(text: string, caret: number, start: number, username: string): { text: string; caret: number } {
  const inserted = `@${username} `
  const after = text.slice(caret).replace(/^\S*/, '').replace(/^ /, '')
  return { text: text.slice(0, start) + inserted + after, caret: start + inserted.length }
}
