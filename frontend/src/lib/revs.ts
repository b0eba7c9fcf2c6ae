// The room revisions a client has applied, as pure functions. Every change in
// a room (a new message, an edit, a delete, a reaction) takes the room's next
// `rev`; a client that holds every change up to `held` and sees a live change
// skip past held + 1 has missed one, and asks `changes` from `held`.

export interface Revisions {
  /** Every change up to this rev is applied; null until the server has named one (or never, from a v1 server). */
  held: number | null
  /** Live changes applied above held + 1, ascending: a missed change lies below the first. */
  ahead: readonly number[]
}

export const NO_REVISIONS: Revisions = { held: null, ahead: [] }

/** Moves `held` up over the changes applied just above it. */
function absorb(held: number, ahead: readonly number[]): Revisions {
  let top = held
  const rest: number[] = []
  for (const rev of ahead) {
    if (rev <= top) continue
    if (rev === top + 1) top = rev
    else rest.push(rev)
  }
  return { held: top, ahead: rest }
}

/** A live change (a `message`, an `update`, or an answer to our own request) was applied. */
export function liveRevision(state: Revisions, rev: number): Revisions {
  if (state.held === null || rev <= state.held || state.ahead.includes(rev)) return state
  const ahead = [...state.ahead, rev].sort((a, b) => a - b)
  return absorb(state.held, ahead)
}

/** Every change up to `rev` is applied (a `joined` or `changes` answer said so). */
export function caughtUpTo(state: Revisions, rev: number): Revisions {
  const held = Math.max(state.held ?? 0, rev)
  if (held === state.held && state.ahead.length === 0) return state
  return absorb(held, state.ahead)
}

/** A change was missed: ask `changes` from `held`. */
export const missedChange = (state: Revisions) => state.held !== null && state.ahead.length > 0
