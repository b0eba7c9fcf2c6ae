"""Inbound validation and outbound serialization of the wire frames."""

import json

import pytest

from chat import frames
from chat.frames import FrameError, parse


def error_of(text):
    with pytest.raises(FrameError) as caught:
        parse(text)
    return caught.value


# ---- valid frames ----------------------------------------------------------------


def test_every_type_parses_to_its_dataclass():
    assert parse('{"type":"ping","ref":"r1"}') == frames.Ping(ref="r1")
    assert parse('{"type":"rooms"}') == frames.Rooms()
    assert parse('{"type":"join","room":"general","since":3}') == frames.Join(room="general", since=3)
    assert parse('{"type":"join","room":"a"}') == frames.Join(room="a", since=None)
    assert parse('{"type":"leave","room":"a-b_c"}') == frames.Leave(room="a-b_c")
    assert parse('{"type":"send","room":"a","body":"hi","client_id":"c"}') == frames.Send(
        room="a", body="hi", client_id="c"
    )
    assert parse('{"type":"history","room":"a","before":10}') == frames.History(room="a", before=10, limit=50)
    assert parse('{"type":"history","room":"a","before":10,"limit":100}').limit == 100
    assert parse('{"type":"typing","room":"a","active":false}') == frames.Typing(room="a", active=False)
    assert parse('{"type":"read","room":"a","seq":0}') == frames.Read(room="a", seq=0)


def test_body_is_stored_trimmed_and_counted_after_trimming():
    frame = parse(json.dumps({"type": "send", "room": "a", "body": "  \n héllo 😀 \t", "client_id": "x"}))
    assert frame.body == "héllo 😀"
    padded = "   " + "x" * 4000 + "   "
    assert parse(json.dumps({"type": "send", "room": "a", "body": padded, "client_id": "x"})).body == "x" * 4000


def test_unknown_fields_are_ignored():
    assert parse('{"type":"ping","extra":[1,2]}') == frames.Ping()


def test_longest_room_and_ref_are_accepted():
    room, ref = "a" * 64, "r" * 64
    assert parse(json.dumps({"type": "leave", "room": room, "ref": ref})) == frames.Leave(room=room, ref=ref)


# ---- errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["", "not json", "[1,2]", '"ping"', "42", "null", '{"type":"ping"', '{"type":"ping","n":NaN}'],
)
def test_bad_json(text):
    error = error_of(text)
    assert error.code == "bad_json"
    assert error.ref is None


def test_binary_is_bad_json():
    assert error_of(b'{"type":"ping"}').code == "bad_json"


@pytest.mark.parametrize(
    "frame",
    [
        {},
        {"type": "dance"},
        {"type": 1},
        {"type": "join"},
        {"type": "join", "room": 5},
        {"type": "join", "room": "a", "since": -1},
        {"type": "join", "room": "a", "since": "3"},
        {"type": "join", "room": "a", "since": 1.0},
        {"type": "join", "room": "a", "since": True},
        {"type": "send", "room": "a", "body": "hi"},
        {"type": "send", "room": "a", "body": "hi", "client_id": ""},
        {"type": "send", "room": "a", "body": "hi", "client_id": "c" * 65},
        {"type": "send", "room": "a", "body": 5, "client_id": "c"},
        {"type": "history", "room": "a"},
        {"type": "history", "room": "a", "before": 0},
        {"type": "history", "room": "a", "before": 5, "limit": 0},
        {"type": "history", "room": "a", "before": 5, "limit": 101},
        {"type": "history", "room": "a", "before": 5, "limit": True},
        {"type": "history", "room": "a", "before": True},
        {"type": "typing", "room": "a"},
        {"type": "typing", "room": "a", "active": 1},
        {"type": "read", "room": "a", "seq": -1},
        {"type": "read", "room": "a", "seq": False},
        {"type": "read", "room": "a", "seq": 2**63},
    ],
)
def test_bad_frame_echoes_a_valid_ref(frame):
    error = error_of(json.dumps({**frame, "ref": "abc"}))
    assert error.code == "bad_frame"
    assert error.ref == "abc"


@pytest.mark.parametrize("ref", [5, True, ["x"], "r" * 65])
def test_an_invalid_ref_is_bad_frame_and_not_echoed(ref):
    error = error_of(json.dumps({"type": "ping", "ref": ref}))
    assert error.code == "bad_frame"
    assert error.ref is None


@pytest.mark.parametrize("room", ["", "General", "-a", "_a", "a" * 65, "a b", "é", "a\n", "a.b"])
def test_invalid_room(room):
    error = error_of(json.dumps({"type": "join", "room": room, "ref": "r"}))
    assert (error.code, error.ref) == ("invalid_room", "r")


@pytest.mark.parametrize("body", ["", "   ", "\n\t", "x" * 4001])
def test_invalid_body(body):
    error = error_of(json.dumps({"type": "send", "room": "a", "body": body, "client_id": "c", "ref": "r"}))
    assert (error.code, error.ref) == ("invalid_body", "r")


def test_lone_surrogate_is_not_text():
    error = error_of('{"type":"send","room":"a","body":"\\ud800","client_id":"c"}')
    assert error.code == "bad_frame"


@pytest.mark.parametrize("field", ["body", "client_id"])
def test_nul_is_not_storable_text(field):
    # PostgreSQL text cannot hold U+0000: refused here, not by the database.
    frame = {"type": "send", "room": "a", "body": "hi", "client_id": "c", "ref": "r"}
    frame[field] = "a\u0000b"
    error = error_of(json.dumps(frame))
    assert (error.code, error.ref) == ("bad_frame", "r")


UNUSUAL_SPACES = [
    "\u00a0", "\u1680", "\u2000", "\u2003", "\u200a", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000",
    "\u0085", "\u000b", "\u000c",
    # Zero-width characters a reader sees as nothing: JavaScript's trim() drops
    # U+FEFF, and U+180E was a space until Unicode 6.3.
    "\ufeff", "\u200b", "\u2060", "\u180e",
]


@pytest.mark.parametrize("space", UNUSUAL_SPACES)
def test_a_body_of_unusual_spaces_is_invalid(space):
    error = error_of(json.dumps({"type": "send", "room": "a", "body": space * 3, "client_id": "c", "ref": "r"}))
    assert (error.code, error.ref) == ("invalid_body", "r")


def test_unusual_spaces_are_trimmed_at_both_ends_only():
    body = "".join(UNUSUAL_SPACES) + "a\u200bb\u3000c" + "".join(UNUSUAL_SPACES)
    assert parse(json.dumps({"type": "send", "room": "a", "body": body, "client_id": "c"})).body == "a\u200bb\u3000c"


@pytest.mark.parametrize("field", ["since", "extra"])
def test_an_integer_too_long_for_python_is_bad_frame_not_bad_json(field):
    # Python refuses to convert integers of more than 4300 digits; the frame is
    # still a JSON object, so it is answered like any other out-of-range number.
    text = '{"type":"join","room":"a","ref":"r","%s":%s}' % (field, "9" * 5000)
    if field == "extra":
        assert parse(text) == frames.Join(room="a", ref="r")
    else:
        error = error_of(text)
        assert (error.code, error.ref) == ("bad_frame", "r")


# ---- outbound ----------------------------------------------------------------------


def test_dumps_is_compact_and_keeps_unicode():
    assert frames.dumps(frames.pong("r")) == '{"type":"pong","ref":"r"}'
    assert frames.dumps({"b": "héllo"}) == '{"b":"héllo"}'


def test_ref_is_only_present_when_given():
    assert "ref" not in frames.left(room="a")
    assert frames.error(code="bad_frame", detail="d", ref="x") == {
        "type": "error",
        "code": "bad_frame",
        "detail": "d",
        "ref": "x",
    }


def test_message_frame_names_its_room():
    message = {"id": 1, "room": "a", "seq": 1}
    assert frames.message(message) == {"type": "message", "room": "a", "message": message}


# ---- version 2's room frames -------------------------------------------------------


def test_room_frames_parse():
    assert parse('{"type":"create","room":"team","kind":"private","topic":"t"}') == frames.Create(
        room="team", kind="private", topic="t"
    )
    assert parse('{"type":"create","room":"team","kind":"public"}').topic == ""
    assert parse('{"type":"dm","users":["bob","carol"],"ref":"d"}') == frames.Dm(users=("bob", "carol"), ref="d")
    assert parse('{"type":"invite","room":"team","user":"bob"}') == frames.Invite(room="team", user="bob")
    assert parse('{"type":"remove","room":"team","user":"bob"}') == frames.Remove(room="team", user="bob")
    assert parse('{"type":"topic","room":"team","topic":""}') == frames.Topic(room="team", topic="")
    assert parse(json.dumps({"type": "topic", "room": "t", "topic": "x" * 250})).topic == "x" * 250


@pytest.mark.parametrize("frame", [
    {"type": "create", "room": "team", "kind": "dm"},
    {"type": "create", "room": "team"},
    {"type": "create", "room": "team", "kind": "public", "topic": "x" * 251},
    {"type": "topic", "room": "team", "topic": "x" * 251},
    {"type": "topic", "room": "team"},
    {"type": "dm", "users": []},
    {"type": "dm", "users": [f"u{k}" for k in range(8)]},
    {"type": "dm", "users": "bob"},
    {"type": "dm", "users": ["bob", 3]},
    {"type": "dm", "users": [""]},
    {"type": "invite", "room": "team"},
    {"type": "remove", "room": "team", "user": ""},
])
def test_room_frames_refuse_bad_fields(frame):
    assert error_of(json.dumps({**frame, "ref": "x"})).code == "bad_frame"


def test_room_frames_check_the_room_name():
    assert error_of('{"type":"create","room":"No","kind":"public"}').code == "invalid_room"
    assert error_of('{"type":"invite","room":"","user":"bob"}').code == "invalid_room"
