"""Server timing constants, in seconds, each with the reason for its value.

The presence TTL itself is a setting (CHAT_PRESENCE_TTL, default 30 s) owned by
the presence store; the intervals here are derived from it or sized against it.
"""

# Three heartbeats per TTL: an entry survives two lost heartbeats in a row.
HEARTBEATS_PER_PRESENCE_TTL = 3

# How often each process sweeps expired presence: a dead process's users leave
# within TTL + this (30 + 5 s), well inside the contract's 60 s.
PRESENCE_SWEEP_INTERVAL = 5.0

# Group memberships are re-added at every heartbeat; never less often than this,
# so a Redis restart (which forgets every group) heals within seconds even with
# a long presence TTL. channels-redis's group_expiry (a day) is far above it.
MAX_GROUP_READD_INTERVAL = 10.0

# Backoff of the hub's receive loop while the channel layer fails (Redis down):
# retry fast after a blip, then at most every few seconds so a long outage does
# not spin the CPU or flood the log.
LAYER_RETRY_FIRST = 0.1
LAYER_RETRY_MAX = 3.0

# Once the channel layer is back after an outage, the hub hands its sockets the
# messages stored since the outage began (chat/catchup.py), from this long
# before it: a message stored just before the hub noticed was published into
# the outage too, and the processes' clocks may differ by a little.
CATCH_UP_MARGIN = 5.0


# Presence frames a room sends one by one per window before its changes are
# merged into one frame per window (chat/announce.py): a few people arriving
# together are announced at once, a room of hundreds filling after a restart
# costs a frame per window instead of one per person. The window is the most
# a merged change waits.
PRESENCE_BURST = 10
PRESENCE_WINDOW = 0.25

# Past this many rooms with recent presence traffic, idle ones are forgotten.
PRESENCE_ROOMS_TRACKED = 1000

# How many of one socket's requests may be queued or running at once (chat/lanes.py);
# past it the consumer takes no further frame until one finishes.
REQUESTS_IN_FLIGHT = 16

# A socket's repeated `typing` (active: true while already typing) is passed on at
# most once in this time per room: clients repeat it every 3 s, a flood gains nothing.
TYPING_INTERVAL = 1.0
# Starts and stops of typing per room and socket passed on in any second: a
# person starts, stops and sends within a second now and then; a flood of
# alternating frames gets no further.
TYPING_CHANGES = 5

# A `ping` is answered after the socket's earlier requests, or after this long if
# they still wait on a stalled dependency: well inside any client's heartbeat.
PING_PATIENCE = 0.5

# When a socket closes, its requests in flight get this long to finish (a stored
# message still fans out) before they are cancelled; well inside Daphne's
# application_close_timeout (10 s), after which Daphne cancels the consumer.
REQUEST_DRAIN_TIMEOUT = 5.0

# A push service answers within this or the push counts as failed (logged, not
# retried): a stalled push service must not hold a sending thread for long.
PUSH_TIMEOUT = 10.0
# How long a push service keeps a push for a device that is offline: a day;
# past that a message is better found in the app than announced late.
PUSH_TTL = 24 * 60 * 60
