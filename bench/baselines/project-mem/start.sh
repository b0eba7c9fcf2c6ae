#!/usr/bin/env bash
# project-mem: the chat project (/tmp/bench-project) on its embedded default, as a bare
# `make run` serves it: Channels' in-memory layer, presence and rate limit in process
# memory, SQLite in a fresh directory per port (/tmp/bench-project-mem/PORT, emptied and
# migrated on every start). Started as `make run` does (python -m chat.serve); the limits a shared-session load generator trips are raised.
set -euo pipefail
PORT=${1:-8011}
PROJECT=${BENCH_PROJECT:?set BENCH_PROJECT to a checkout of the project built with make install build}
# BENCH_KEEP_DB=1 keeps the directory and its database (the runner's restart in S5).
export CHAT_VAR_DIR=/tmp/bench-project-mem/$PORT
[ "${BENCH_KEEP_DB:-}" = 1 ] || rm -rf "$CHAT_VAR_DIR"
mkdir -p "$CHAT_VAR_DIR"
export CHAT_SEND_RATE=${BENCH_CHAT_SEND_RATE:-1000000/1s}
# The load generator signs up 20 users from one address and shares each one's
# session among many sockets (25 a user in S2, 100 in S4), which the
# per-address sign-up limit and the per-user socket limit exist to refuse:
# raised here, like the send rate. The per-socket limits stay on.
export CHAT_SIGNUP_RATE=${BENCH_CHAT_SIGNUP_RATE:-1000000/1s}
export CHAT_MAX_SOCKETS_PER_USER=${BENCH_CHAT_MAX_SOCKETS_PER_USER:-1000000}
export CHAT_ROOM_CREATE_RATE=${BENCH_CHAT_ROOM_CREATE_RATE:-1000000/1s}
export DJANGO_SECRET_KEY=${DJANGO_SECRET_KEY:-bench-only-not-a-secret-0b7c1e9a4f2d6e8a3c5b7d9f1e3a5c7b}
unset REDIS_URL DATABASE_URL DEBUG DEV_ORIGINS VITE_DEV_MODE
cd "$PROJECT/backend"
../.venv/bin/python manage.py migrate --noinput --verbosity 0
exec ../.venv/bin/python -m chat.serve --bind 127.0.0.1 --port "$PORT"
