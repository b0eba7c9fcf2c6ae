"""manage.py seed_messages: many messages, fast, for benchmarks (bench/search.py).

    manage.py seed_messages --messages 1000000 --rooms 100 --users 1000

Adds N messages spread over R public rooms `seed-0`.. by U users `seed-user-0`..
(made when missing, without a usable password), in bulk inserts of one
transaction. The rooms are locked meanwhile, and each message takes the room's
next seq and rev as a send would, so last_seq and last_rev stay right and the
store's invariants hold. Bodies are 4 to 20 words of a made-up vocabulary whose
word frequencies follow Zipf's law, as a language's do, so a search meets
words of every frequency. The same --random-seed gives the same messages.
"""

from __future__ import annotations

import itertools
import random
import uuid
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from chat.models import Message, Room

BATCH = 5000
VOCABULARY_SIZE = 20000
_ONSETS = ["b", "c", "d", "f", "g", "l", "m", "n", "p", "r", "s", "t", "v", "br", "st", "tr", "pl", "gr"]
_VOWELS = ["a", "e", "i", "o", "u", "ai", "ou"]
_CODAS = ["", "", "n", "r", "s", "l", "t"]


def vocabulary(size: int = VOCABULARY_SIZE) -> list[str]:
    """`size` made-up words, the most frequent first (the same list every time)."""
    rng = random.Random(11)
    syllables = [onset + vowel + coda for onset in _ONSETS for vowel in _VOWELS for coda in _CODAS]
    words: dict[str, None] = {}
    while len(words) < size:
        words["".join(rng.choice(syllables) for _ in range(rng.randint(2, 3)))] = None
    return list(words)


def zipf_weights(size: int) -> list[float]:
    """Cumulative weights of ranks 1..size under Zipf's law (frequency ∝ 1/rank)."""
    return list(itertools.accumulate(1 / rank for rank in range(1, size + 1)))


class Command(BaseCommand):
    help = "Adds many messages fast (for benchmarks): N messages over R rooms by U users."

    def add_arguments(self, parser):
        parser.add_argument("--messages", type=int, default=100_000)
        parser.add_argument("--rooms", type=int, default=100)
        parser.add_argument("--users", type=int, default=1000)
        parser.add_argument("--random-seed", type=int, default=1)

    def handle(self, *, messages: int, rooms: int, users: int, random_seed: int, **options):
        rng = random.Random(random_seed)
        words, weights = vocabulary(), zipf_weights(VOCABULARY_SIZE)
        authors = self._users(users)
        run = uuid.uuid4().hex[:12]  # client_ids of this run: (author, client_id) stays unique
        start = timezone.now() - timedelta(seconds=messages)
        with transaction.atomic():
            targets = self._rooms(rooms)
            seqs = {room.pk: room.last_seq for room in targets}
            revs = {room.pk: room.last_rev for room in targets}
            made = 0
            while made < messages:
                batch = []
                for k in range(made, min(made + BATCH, messages)):
                    room = targets[rng.randrange(len(targets))].pk
                    seqs[room] += 1
                    revs[room] += 1
                    body = " ".join(rng.choices(words, cum_weights=weights, k=rng.randint(4, 20)))
                    batch.append(Message(
                        room_id=room, seq=seqs[room], rev=revs[room], author_id=rng.choice(authors), body=body,
                        client_id=f"seed-{run}-{k}", created_at=start + timedelta(seconds=k),
                    ))
                Message.objects.bulk_create(batch)
                made += len(batch)
                if made % 100_000 == 0:
                    self.stdout.write(f"{made} messages")
            for room in targets:
                Room.objects.filter(pk=room.pk).update(last_seq=seqs[room.pk], last_rev=revs[room.pk])
        self.stdout.write(self.style.SUCCESS(f"{messages} messages in {len(targets)} rooms by {len(authors)} users"))

    def _users(self, count: int) -> list[int]:
        User = get_user_model()
        names = [f"seed-user-{k}" for k in range(count)]
        have = set(User.objects.filter(username__in=names).values_list("username", flat=True))
        unusable = make_password(None)
        User.objects.bulk_create(
            [User(username=name, password=unusable) for name in names if name not in have], batch_size=BATCH
        )
        return list(User.objects.filter(username__in=names).values_list("pk", flat=True))

    def _rooms(self, count: int) -> list[Room]:
        names = [f"seed-{k}" for k in range(count)]
        Room.objects.bulk_create([Room(name=name) for name in names], ignore_conflicts=True)
        # Locked until the messages are in: a send meanwhile waits, then takes the next seq.
        return list(Room.objects.select_for_update().filter(name__in=names).order_by("pk"))
