#!/usr/bin/env bash
# project: the chat project under test (a clone at /tmp/bench-project, built with
# `make install build`), served exactly as its `make run` does (`cd backend &&
# python -m chat.serve --bind HOST --port PORT`, Daphne with the project's server
# class), in its production shape: channels-redis layer, presence and
# rate limit in Redis db 5, messages in a fresh PostgreSQL database (dropped, re-created and
# migrated on every start). Storage, presence and seq stay on; the send rate limit is
# raised so it never refuses a send (it is still checked on every send, in the send's statement).
# usage: start.sh PORT   (exec's Daphne so its PID is the server PID)
# BENCH_KEEP_DB=1 keeps the database as it is (the runner's restart in S5; migrate still runs,
# as in `make run`).
set -euo pipefail
PORT=${1:-8010}
PROJECT=${BENCH_PROJECT:?set BENCH_PROJECT to a checkout of the project built with make install build}
DB=${BENCH_PROJECT_DB:-bench_project}
case "$DB" in bench_*) ;; *) echo "database name must start with bench_" >&2; exit 2 ;; esac
export REDIS_URL=${BENCH_PROJECT_REDIS_URL:-redis://127.0.0.1:6379/5}
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB"
export CHAT_SEND_RATE=${BENCH_CHAT_SEND_RATE:-1000000/1s}
# The load generator signs up 20 users from one address and shares each one's
# session among many sockets (25 a user in S2, 100 in S4), which the
# per-address sign-up limit and the per-user socket limit exist to refuse:
# raised here, like the send rate. The per-socket limits stay on.
export CHAT_SIGNUP_RATE=${BENCH_CHAT_SIGNUP_RATE:-1000000/1s}
export CHAT_MAX_SOCKETS_PER_USER=${BENCH_CHAT_MAX_SOCKETS_PER_USER:-1000000}
export CHAT_ROOM_CREATE_RATE=${BENCH_CHAT_ROOM_CREATE_RATE:-1000000/1s}
export DJANGO_SECRET_KEY=${DJANGO_SECRET_KEY:-bench-only-not-a-secret-0b7c1e9a4f2d6e8a3c5b7d9f1e3a5c7b}
unset DEBUG DEV_ORIGINS CHAT_VAR_DIR VITE_DEV_MODE
if [ "${BENCH_KEEP_DB:-}" != 1 ]; then
  PGOPTIONS="-c client_min_messages=warning" psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -qX -v ON_ERROR_STOP=1 \
    -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null
fi
cd "$PROJECT/backend"
../.venv/bin/python manage.py migrate --noinput --verbosity 0
exec ../.venv/bin/python -m chat.serve --bind 127.0.0.1 --port "$PORT"
