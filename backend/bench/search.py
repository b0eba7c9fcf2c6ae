#!/usr/bin/env python
"""Search benchmark: chat.search.message_search over 1,000,000 messages in PostgreSQL.

    .venv/bin/python backend/bench/search.py [--messages 1000000] [--queries 200] [--keep]

1. Makes a PostgreSQL database of its own on 127.0.0.1:5432 (`chat_bench_search`,
   left alone by the tests; dropped at the end unless --keep, and reused as it
   is when it already holds the messages), migrates it and fills it with
   `manage.py seed_messages` (100 public rooms, 1,000 users), then VACUUM;
   ANALYZE every table before measuring.
2. As one of the seeded users (not staff: the access rule is the real one), runs
   --queries one-word searches over every room, then as many narrowed with
   `in:` to a random room; the words are spread over the vocabulary's
   frequencies, from the most common (in about half of all messages) to the
   rarest. Each query is the whole selector (access, match, page of 20, the
   wire shape), timed in this process after a warm-up.
3. Prints median, p90, p99 and the worst, in ms, per kind.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

BACKEND_DIR = Path(__file__).resolve().parents[1]
PG = "postgres://postgres@127.0.0.1:5432"
NAME = "chat_bench_search"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the database for another run")
    args = parser.parse_args()

    import psycopg

    admin = psycopg.connect(f"{PG}/postgres", autocommit=True)
    if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (NAME,)).fetchone() is None:
        admin.execute(f'CREATE DATABASE "{NAME}"')
    env = {**os.environ, "DATABASE_URL": f"{PG}/{NAME}"}
    env.setdefault("DJANGO_SECRET_KEY", "bench")
    env.pop("REDIS_URL", None)
    os.environ.update(env)
    try:
        manage = [sys.executable, str(BACKEND_DIR / "manage.py")]
        subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, check=True)
        with psycopg.connect(f"{PG}/{NAME}") as db:
            stored = db.execute("SELECT count(*) FROM chat_message").fetchone()[0]
        if stored < args.messages:
            began = time.perf_counter()
            subprocess.run([*manage, "seed_messages", "--messages", str(args.messages - stored)], env=env, check=True)
            print(f"seeded {args.messages - stored} messages in {time.perf_counter() - began:.0f} s", flush=True)
            with psycopg.connect(f"{PG}/{NAME}", autocommit=True) as db:
                db.execute("VACUUM chat_message")
        # Every table's statistics, as autovacuum keeps them: without the rooms'
        # and users', the planner guessed a room held half of all messages.
        with psycopg.connect(f"{PG}/{NAME}", autocommit=True) as db:
            db.execute("ANALYZE")
        measure(args.queries)
    finally:
        if not args.keep:
            admin.execute(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')
        admin.close()


def measure(queries: int) -> None:
    sys.path.insert(0, str(BACKEND_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection

    from chat.management.commands.seed_messages import vocabulary
    from chat.search import message_search
    from chat.searchquery import parse_query

    rng = random.Random(7)
    words = vocabulary()
    # Ranks spread evenly on a log scale: as many common words as rare ones.
    ranks = [min(len(words) - 1, int(len(words) ** rng.random()) - 1) for _ in range(queries)]
    user = get_user_model().objects.get(username="seed-user-0")
    count = connection.cursor()
    total = count.execute("SELECT count(*) FROM chat_message").fetchone()[0]
    print(f"{total} messages; {queries} queries per kind; words of rank 1 to {max(ranks) + 1} of {len(words)}")
    kinds = {
        "one word, every room": [words[rank] for rank in ranks],
        "one word, in: one room": [f"{words[rank]} in:seed-{rng.randrange(100)}" for rank in ranks],
    }
    for queries_ in kinds.values():  # warm-up: the index's pages into memory
        for query in queries_[:20]:
            message_search(user=user, terms=parse_query(query))
    print("| search | median | p90 | p99 | worst | found (median) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for kind, queries_ in kinds.items():
        times, found = [], []
        for query in queries_:
            began = time.perf_counter()
            messages, _ = message_search(user=user, terms=parse_query(query))
            times.append((time.perf_counter() - began) * 1000)
            found.append(len(messages))
        times.sort()
        p90, p99 = (times[min(len(times) - 1, int(len(times) * q))] for q in (0.9, 0.99))
        print(
            f"| {kind} | {statistics.median(times):.1f} ms | {p90:.1f} ms | {p99:.1f} ms | {times[-1]:.1f} ms "
            f"| {statistics.median(found):.0f} |"
        )


if __name__ == "__main__":
    main()
