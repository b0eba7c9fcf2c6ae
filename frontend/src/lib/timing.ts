// Every timing constant of the browser app, each with why it has its value.

/** Backoff base: the first retry comes within half a second, fast enough to hide a blip. */
export const RECONNECT_BASE_MS = 500
/** Backoff cap: a long outage is retried at least every 20 s so recovery is noticed soon. */
export const RECONNECT_CAP_MS = 20_000
/** Backoff floor: full jitter may draw ~0; never retry faster than this, so no hot loop. */
export const RECONNECT_FLOOR_MS = 250
/** Closed with 1012 (the server restarts): back at once, to another server, within a random
 *  pause of up to this, so the tabs it closed (spread over a few seconds already) do not land together. */
export const RESTART_RECONNECT_JITTER_MS = 250
/** A try after a 1012 that found no server (a lone server restarting) is retried within a random
 *  pause of up to this, at least the backoff floor, instead of on the growing backoff: the server
 *  said it is coming back, and a refused try costs it nothing, so the tab returns within a second
 *  of it listening again rather than several seconds later… */
export const RESTART_RETRY_JITTER_MS = 1_000
/** …for this long after the 1012; a restart that takes longer is an outage, met with the usual backoff. */
export const RESTART_RETRY_WINDOW_MS = 30_000
/** Closed with 4429 (this person has too many sockets open): the next try waits at least
 *  this long, so twenty tabs do not hammer the server; closing a tab makes room. */
export const TOO_MANY_SOCKETS_RETRY_MS = 15_000
/** A connect attempt that neither opens nor fails by then is abandoned and retried. */
export const CONNECT_TIMEOUT_MS = 10_000

/** App-level ping: well under common 60 s proxy idle timeouts, so idle sockets stay up. */
export const HEARTBEAT_INTERVAL_MS = 25_000
/** No pong this long after a ping means the socket is dead though the browser has not noticed. */
export const HEARTBEAT_TIMEOUT_MS = 10_000

/** A request without its reply by then is a visible failure rather than an endless spinner. */
export const PUSH_TIMEOUT_MS = 10_000

/** A send refused with rate_limited waits this long before its first retry: the server's
 *  window (20 in 10 s by default) frees a slot about every half second under a steady burst. */
export const SEND_RETRY_BASE_MS = 1_000
/** …doubling up to this, the default window's length: by then a slot is certainly free. */
export const SEND_RETRY_CAP_MS = 10_000

/** Unread counts and `online` drift only by frames we miss; a minute bounds the drift. */
export const ROOMS_REFRESH_MS = 60_000

/** Outbound `typing: true` at most this often while the text changes (the protocol's limit). */
export const TYPING_THROTTLE_MS = 3_000
/** After this long without a keystroke the person has stopped typing: send `active: false`. */
export const TYPING_IDLE_MS = 5_000
/** Someone's indicator expires this long after their last `active: true` (the protocol's rule). */
export const TYPING_EXPIRY_MS = 10_000

/** A message older than this when it arrives live was missed, not just sent: no desktop notification. */
export const STALE_MESSAGE_MS = 5 * 60_000
/** Logging out waits at most this long for the server to forget this browser's push subscription. */
export const PUSH_UNSUBSCRIBE_WAIT_MS = 3_000

/** A join without `since` brings the newest 50; older pages are asked for in the same size. */
export const HISTORY_PAGE_SIZE = 50
/** The server's largest `history` limit, used when filling a gap. */
export const HISTORY_MAX_LIMIT = 100
/** Messages asked on each side of a search result opened in its room: a screenful or two around it. */
export const JUMP_CONTEXT = 25
