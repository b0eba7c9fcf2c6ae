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

# A group add/discard that takes longer than this is abandoned (Redis hanging);
# the next heartbeat re-adds, so a stuck call never blocks a join for long.
GROUP_OP_TIMEOUT = 5.0

# Presence frames a room sends one by one per window before its changes are
# merged into one frame per window (chat/announce.py): a few people arriving
# together are announced at once, a room of hundreds filling after a restart
# costs a frame per window instead of one per person. The window is the most
# a merged change waits.
PRESENCE_BURST = 10
PRESENCE_WINDOW = 0.25

# Past this many rooms with recent presence traffic, idle ones are forgotten.
PRESENCE_ROOMS_TRACKED = 1000

# A send-rate check in Redis that takes longer than this lets the send through:
# a hanging Redis must not hold up messages the database can store.
RATE_LIMIT_TIMEOUT = 2.0
