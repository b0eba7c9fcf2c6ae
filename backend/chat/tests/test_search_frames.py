"""`search` through the socket (consumer, hub, in-memory layer, the SQLite test
database with migration 0006's FTS5 table): the answer's shape, refusals, and
an edit found by its new text at once. The matching rules themselves are the
contract of test_search.py, on both databases."""

import io

import pytest
from django.core.management import call_command
from django.db.models import Count, Max

from chat import services
from chat.hub import close_hub
from chat.models import Message, Room
from chat.roomactions import FORBIDDEN
from chat.search import message_search
from chat.searchquery import parse_query
from chat.tests.test_consumer import Socket, login, sockets, user_dict  # noqa: F401 (fixtures)
from chat.tests.test_message_frames import joined_pair, reply, send

pytestmark = [pytest.mark.timeout(90)]


@pytest.fixture(autouse=True)
async def fresh_hub():
    yield
    await close_hub()


@pytest.mark.django_db(transaction=True)
async def test_search_answers_messages_newest_first(user, other_user, login, sockets):
    a, b = await joined_pair(login, sockets, user, other_user)
    first = await send(a, "Deploying the café build", "c1")
    await send(a, "lunch?", "c2")
    third = await send(a, "deployed again", "c3")
    await b.quiet()

    answer = await reply(b, {"type": "search", "query": "DEPLOY cafe", "ref": "s1"})
    assert answer == {"type": "search", "ref": "s1", "messages": [first], "has_more": False}
    page = await reply(b, {"type": "search", "query": "deploy", "room": "lobby", "limit": 1, "ref": "s2"})
    assert page == {"type": "search", "ref": "s2", "messages": [third], "has_more": True}
    rest = await reply(b, {"type": "search", "query": "deploy", "before": third["id"], "ref": "s3"})
    assert rest == {"type": "search", "ref": "s3", "messages": [first], "has_more": False}

    # An edit is found by its new text as soon as `edited` is answered.
    edited = await a.request({"type": "edit", "room": "lobby", "seq": 2, "body": "dinner!"})
    found = await reply(b, {"type": "search", "query": "dinner", "ref": "s4"})
    assert found["messages"] == [edited["message"]]
    assert (await reply(b, {"type": "search", "query": "lunch", "ref": "s5"}))["messages"] == []
    # Without a ref, the answer carries none.
    await b.quiet()
    await b.send({"type": "search", "query": "from:alice"})
    assert (await b.recv()) == {"type": "search", "messages": [third, edited["message"], first], "has_more": False}


@pytest.mark.django_db(transaction=True)
async def test_search_refusals(user, other_user, login, sockets):
    a, _ = await joined_pair(login, sockets, user, other_user)
    assert (await a.request({"type": "create", "room": "hush", "kind": "private"}))["type"] == "joined"
    b = await sockets(await login(other_user))
    cases = [
        ({"query": "x", "room": "hush"}, "forbidden"),
        ({"query": "x in:hush"}, "forbidden"),
        ({"query": "x", "room": "nowhere"}, "forbidden"),
        ({"query": "  !! "}, "invalid_query"),
        ({"query": '""'}, "invalid_query"),
        ({"query": "x" * 501}, "bad_frame"),
        ({}, "bad_frame"),
        ({"query": "x", "limit": 51}, "bad_frame"),
        ({"query": "x", "limit": 0}, "bad_frame"),
        ({"query": "x", "before": 0}, "bad_frame"),
        ({"query": "x", "room": "Not A Room"}, "invalid_room"),
    ]
    for fields, code in cases:
        answer = await reply(b, {"type": "search", "ref": "r", **fields})
        assert (answer["type"], answer["code"], answer["ref"]) == ("error", code, "r"), (fields, answer)
        if code == "forbidden":
            assert answer["detail"] == FORBIDDEN
    # The owner may search it.
    assert (await reply(a, {"type": "search", "query": "x", "room": "hush"}))["type"] == "search"


@pytest.mark.django_db
def test_seed_messages_numbers_like_sends(user):
    services.room_join(user=user, name="seed-1")
    services.message_create(user=user, room="seed-1", body="before the seeding", client_id="c1")
    call_command("seed_messages", messages=600, rooms=3, users=4, stdout=io.StringIO())
    call_command("seed_messages", messages=150, rooms=3, users=4, stdout=io.StringIO())
    assert Message.objects.count() == 751
    for room in Room.objects.filter(name__startswith="seed-"):
        numbers = Message.objects.filter(room=room).aggregate(count=Count("pk"), seq=Max("seq"), rev=Max("rev"))
        assert numbers == {"count": room.last_seq, "seq": room.last_seq, "rev": room.last_rev}
    # A send after it takes the next seq; the seeded messages are searchable.
    message, _ = services.message_create(user=user, room="seed-1", body="after the seeding", client_id="c2")
    assert message["seq"] == Room.objects.get(name="seed-1").last_seq
    word = Message.objects.filter(author__username="seed-user-0").first().body.split()[0]
    found, _ = message_search(user=user, terms=parse_query(f"{word} from:seed-user-0"), limit=50)
    assert all(m["author"]["username"] == "seed-user-0" for m in found)
    assert any(word in m["body"].split() for m in found)
