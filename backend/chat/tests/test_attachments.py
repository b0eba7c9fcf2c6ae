"""A send's attachments against a real database, SQLite and PostgreSQL, in a
process of its own (as test_store.py): the uploads are linked in the send's
own statement (PostgreSQL) or transaction (SQLite), in the order named, only
the sender's own and free ones, and every path that builds a MESSAGE shows
them (the send, the join's statement, history, changes, search, edits, and a
delete's `[]`)."""

import json

import pytest

from chat import frames
from chat.tests.test_seq_concurrency import database_url, django_env  # noqa: F401 (fixtures)

SCRIPT = """
import asyncio, json
import django
django.setup()
from django.contrib.auth import get_user_model
from chat import pgpool, revisions, search, searchquery, selectors, services, store
from chat.models import Upload

users = get_user_model().objects
alice, bob, carol = users.get(username="alice"), users.get(username="bob"), users.get(username="carol")

def upload(user, name, width=None):
    return Upload.objects.create(uploader=user, name=name, size=len(name), content_type="text/plain",
                                 file=f"x/{name}", width=width, height=None if width is None else 20).id

a1, a2, a3, a4 = (upload(alice, f"a{k}.txt") for k in range(1, 5))
picture = upload(alice, "p.png", width=30)
theirs = upload(bob, "b.txt")
out = {"ids": [a1, a2, a3, a4, picture, theirs]}

def ids(message):
    return [attachment["id"] for attachment in message["attachments"]]

def refused(**kwargs):
    try:
        asyncio.run(send(**kwargs))
    except Exception as error:
        return type(error).__name__
    return "stored"

async def send(**kwargs):
    try:
        return await store.message_create(
            user=kwargs.pop("user", alice), room=kwargs.pop("room", "race"), rate=None, **kwargs
        )
    finally:
        await pgpool.close_pool()

message, created = asyncio.run(send(body="", client_id="m1", attachments=(a2, picture, a1)))
out["sent"] = message
out["resent"] = asyncio.run(send(body="", client_id="m1", attachments=(a2, picture, a1)))
out["theirs"] = refused(body="x", client_id="m2", attachments=(a3, theirs))
out["taken"] = refused(body="x", client_id="m3", attachments=(a1,))
out["unknown"] = refused(body="x", client_id="m4", attachments=("nope",))
out["missing_room"] = refused(room="nowhere", body="x", client_id="m5", attachments=(theirs,))
out["plain"] = asyncio.run(send(body="no files", client_id="m6"))[0]
out["free_after_refusals"] = sorted(Upload.objects.filter(message__isnull=True).values_list("id", flat=True))
# The same statement through Django's own cursor (services, as a thread or a test calls it).
out["via_services"] = services.message_create(user=alice, room="race", body="s", client_id="m7", attachments=(a4,))[0]

# Two sends race for one upload: one message holds it, the other is refused and stores nothing.
async def race():
    try:
        return await asyncio.gather(
            store.message_create(user=alice, room="race", body="one", client_id="r1", rate=None, attachments=(a3,)),
            store.message_create(user=alice, room="race", body="two", client_id="r2", rate=None, attachments=(a3,)),
            return_exceptions=True,
        )
    finally:
        await pgpool.close_pool()
out["race"] = sorted(type(r).__name__ if isinstance(r, Exception) else "stored" for r in asyncio.run(race()))
out["race_holders"] = Upload.objects.filter(pk=a3).values_list("message_id", flat=True).count()

async def enter():
    try:
        return await store.room_enter(user=bob, name="race", since=None)
    finally:
        await pgpool.close_pool()
joined, _, _ = asyncio.run(enter())
out["joined"] = [m for m in joined if m["client_id"] == "m1"][0]
out["history"] = [m for m in selectors.messages_before(room="race", before=10**6, user=bob)[0] if m["client_id"] == "m1"][0]
out["changes"] = [m for m in selectors.message_changes(room="race", since_rev=0, user=bob)[0] if m["client_id"] == "m1"][0]
edited, _ = revisions.message_edit(user=alice, room="race", seq=message["seq"], body="now with words")
out["edited"] = edited
out["found"] = search.message_search(user=bob, terms=searchquery.parse_query("words"))[0]
deleted, _ = revisions.message_delete(user=alice, room="race", seq=message["seq"])
out["deleted"] = deleted
out["after_delete"] = [m for m in selectors.messages_latest(room="race")[0] if m["client_id"] == "m1"][0]
print(json.dumps(out))
"""


@pytest.mark.parametrize("database_url", ["postgresql", "sqlite"], indirect=True)
def test_send_links_attachments_everywhere_a_message_goes(django_env):  # noqa: F811
    _, run = django_env
    done = run("-c", SCRIPT)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.strip().splitlines()[-1])
    a1, a2, a3, a4, picture, theirs = got["ids"]

    sent = got["sent"]
    assert sent["body"] == ""
    assert [a["id"] for a in sent["attachments"]] == [a2, picture, a1]
    assert sent["attachments"][0] == {
        "id": a2, "name": "a2.txt", "size": 6, "content_type": "text/plain", "url": f"/api/uploads/{a2}/a2.txt",
        "image": None,
    }
    assert sent["attachments"][1]["image"] == {
        "width": 30, "height": 20, "thumbnail_url": f"/api/uploads/{picture}/thumbnail",
    }
    # A resend is answered with the stored message, though its uploads are held (by it).
    resent, created = got["resent"]
    assert created is False and resent == sent

    assert got["theirs"] == "InvalidAttachment"
    assert got["taken"] == "InvalidAttachment"
    assert got["unknown"] == "InvalidAttachment"
    assert got["missing_room"] == "RoomNotFound"  # the room comes first
    assert got["plain"]["attachments"] == []
    # Nothing refused took anything: a3 (named with bob's upload) is still free.
    assert got["free_after_refusals"] == sorted([a3, a4, theirs])
    assert [a["id"] for a in got["via_services"]["attachments"]] == [a4]

    assert got["race"] == ["InvalidAttachment", "stored"]
    assert got["race_holders"] == 1

    for path in ("joined", "history", "changes"):
        assert got[path]["attachments"] == sent["attachments"], path
    assert got["edited"]["attachments"] == sent["attachments"]
    assert [m["attachments"] for m in got["found"]] == [sent["attachments"]]
    assert got["deleted"]["attachments"] == [] and got["after_delete"]["attachments"] == []


# ---- the frame -----------------------------------------------------------------


def send_frame(**fields) -> str:
    return json.dumps({"type": "send", "room": "lobby", "client_id": "c1", **fields})


def test_send_frame_takes_attachments_and_then_an_empty_body():
    frame = frames.parse(send_frame(body="", attachments=["abc", "def", "abc"]))
    assert frame.attachments == ("abc", "def") and frame.body == ""
    assert frames.parse(send_frame(attachments=["abc"])).body == ""
    assert frames.parse(send_frame(body="  hi ")).attachments == ()


@pytest.mark.parametrize("fields, code", [
    ({"body": "x", "attachments": [f"id{k}" for k in range(11)]}, "invalid_attachment"),
    ({"body": "x", "attachments": ["../etc"]}, "invalid_attachment"),
    ({"body": "x", "attachments": "abc"}, "bad_frame"),
    ({"body": "x", "attachments": [1]}, "bad_frame"),
    ({"body": "", "attachments": []}, "invalid_body"),
    ({"body": "   "}, "invalid_body"),
])
def test_send_frame_refusals(fields, code):
    with pytest.raises(frames.FrameError) as refused:
        frames.parse(send_frame(**fields))
    assert refused.value.code == code
