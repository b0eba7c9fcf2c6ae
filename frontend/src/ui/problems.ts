// A failed request, said for people: the contract's codes in our words, the
// server's detail where it names what went wrong (an unknown username).
import { PushError } from '../lib'

export function requestProblem(error: unknown): string {
  if (error instanceof PushError) {
    if (error.code === 'room_exists') return 'That name is taken: pick another.'
    if (error.code === 'forbidden') return 'You may not do that in this room.'
    if (error.code === 'invalid_room') return 'That is not a room name.'
    if (error.code === 'bad_frame') return 'The server did not accept that.'
  }
  const text = error instanceof Error ? error.message : String(error)
  return text || 'Something went wrong.'
}
