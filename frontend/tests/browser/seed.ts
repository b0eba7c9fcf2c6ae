// Messages written straight into the test server's database: days long past,
// and rooms far bigger than the send rate would let a test type in time.
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { BACKEND_DIR, REPO_DIR, serverEnv } from './server'

export interface SeedMessage {
  author: string
  body: string
  /** ISO 8601 */
  created_at: string
}

export interface SeedRoom {
  room: string
  messages: SeedMessage[]
  /** Members and the seq their read marker stands at (they must exist, or are made without a password). */
  readers?: Record<string, number>
}

// Appends after whatever the room holds, numbering on from its last_seq, in one transaction.
const SEED_SCRIPT = `
import json, sys
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.dateparse import parse_datetime
from chat.models import Membership, Message, Room

spec = json.load(sys.stdin)
User = get_user_model()
users = {}
def user(name):
    if name not in users:
        found = User.objects.filter(username=name).first()
        if found is None:
            found = User(username=name)
            found.set_unusable_password()
            found.save()
        users[name] = found
    return users[name]

with transaction.atomic():
    room, _ = Room.objects.select_for_update().get_or_create(name=spec["room"])
    first = room.last_seq + 1
    # Each new message is a change of the room: it takes the next rev, as a send does.
    first_rev = room.last_rev + 1
    rows = [
        Message(room=room, seq=first + i, rev=first_rev + i, author=user(m["author"]), body=m["body"],
                client_id="seed-%s-%d" % (room.name, first + i), created_at=parse_datetime(m["created_at"]))
        for i, m in enumerate(spec["messages"])
    ]
    Message.objects.bulk_create(rows, batch_size=1000)
    room.last_seq = first - 1 + len(rows)
    room.last_rev = first_rev - 1 + len(rows)
    room.save(update_fields=["last_seq", "last_rev"])
    for name, seq in (spec.get("readers") or {}).items():
        Membership.objects.update_or_create(user=user(name), room=room, defaults={"last_read_seq": seq})
print(room.last_seq)
`

/** A script run by `manage.py shell` against the test server's database, given `input` on stdin. */
function djangoShell(varDir: string, script: string, input: string) {
  return spawnSync(join(REPO_DIR, '.venv', 'bin', 'python'), ['manage.py', 'shell', '-c', script], {
    cwd: BACKEND_DIR,
    env: serverEnv(varDir),
    input,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  })
}

/** Writes the messages; returns the room's last seq. */
export function seedRoom(varDir: string, spec: SeedRoom): number {
  const result = djangoShell(varDir, SEED_SCRIPT, JSON.stringify(spec))
  if (result.status !== 0) throw new Error(`seeding ${spec.room} failed:\n${result.stdout}\n${result.stderr}`)
  return Number(result.stdout.trim().split('\n').at(-1))
}

/** Gives a user Django's is_staff, as an administrator does in the admin. */
export function makeStaff(varDir: string, username: string): void {
  const script = 'import sys\nfrom django.contrib.auth import get_user_model\n'
    + 'assert get_user_model().objects.filter(username=sys.stdin.read()).update(is_staff=True) == 1'
  const result = djangoShell(varDir, script, username)
  if (result.status !== 0) throw new Error(`making ${username} staff failed:\n${result.stdout}\n${result.stderr}`)
}
