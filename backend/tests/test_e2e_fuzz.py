"""Fuzz the socket with Hypothesis: random and malformed frames over one long-lived socket
on a dedicated embedded server.

Each example sends one frame, then a ping barrier; every frame before the barrier's pong
answers the fuzzed frame. An oracle written from the contract classifies the frame:
invalid ones must get exactly one `error` with a code from the table; valid ones the
contract's reply; ambiguous ones (where the contract is silent) anything but a crash.
Nothing may be stored by an invalid frame: each room's last_seq must equal the highest
seq the socket was acknowledged with `sent`.
"""

from __future__ import annotations

import json
import re
import secrets
import time

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from .harness import ERROR_CODES, GENEROUS_LIMITS, Topology, running

pytestmark = pytest.mark.e2e

ROOM_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
HOME = "fuzz-home"
REPLY_TYPES = {"ping": "pong", "rooms": "rooms", "join": "joined", "leave": "left", "send": "sent",
               "history": "history", "typing": None, "read": None}
INT64 = 2**63 - 1

INVALID, VALID, AMBIGUOUS = "invalid", "valid", "ambiguous"


# The server trims white space and zero-width spaces too (docs/protocol.md).
SERVER_TRIMS = "".join(c for c in map(chr, range(0x10000)) if c.isspace()) + "\ufeff\u200b\u2060\u180e"


def is_int(v) -> bool:
    return type(v) is int


def classify(frame, joined: set[str]) -> tuple[str, str | None]:
    """(verdict, expected reply type) for a decoded frame, from the contract."""
    if not isinstance(frame, dict):
        return INVALID, None
    verdict = VALID
    if "ref" in frame:
        ref = frame["ref"]
        if ref is None:
            verdict = AMBIGUOUS
        elif not isinstance(ref, str) or len(ref) > 64:
            return INVALID, None
    kind = frame.get("type")
    if not isinstance(kind, str) or kind not in REPLY_TYPES:
        return INVALID, None
    if kind in ("ping", "rooms"):
        return verdict, REPLY_TYPES[kind]
    room = frame.get("room")
    if not isinstance(room, str):
        return INVALID, None

    def optional(name, check):
        nonlocal verdict
        if name not in frame:
            return True
        value = frame[name]
        if value is None:
            verdict = AMBIGUOUS
            return True
        return check(value)

    def seq_like(value, minimum: int = 0) -> bool:
        nonlocal verdict
        if not is_int(value):
            return False
        if value < minimum or value > INT64:
            verdict = AMBIGUOUS  # the contract does not say; a careful server refuses or copes
        return True

    if kind == "join" and not optional("since", seq_like):
        return INVALID, None
    if kind == "send":
        body, client_id = frame.get("body"), frame.get("client_id")
        if not isinstance(body, str) or not isinstance(client_id, str) or not 1 <= len(client_id) <= 64:
            return INVALID, None
    if kind == "history":
        if "before" not in frame or not seq_like(frame["before"], minimum=1):
            return INVALID, None
        if not optional("limit", lambda v: is_int(v) and 1 <= v <= 100):
            return INVALID, None
    if kind == "typing" and not isinstance(frame.get("active"), bool):
        return INVALID, None
    if kind == "read" and ("seq" not in frame or not seq_like(frame["seq"])):
        return INVALID, None
    if not ROOM_NAME.fullmatch(room):
        return INVALID, None
    if kind == "send":
        if "\x00" in frame["body"] + frame["client_id"]:
            return INVALID, None  # PostgreSQL cannot store U+0000 (docs/protocol.md: bad_frame)
        trimmed = frame["body"].strip()
        ascii_trimmed = frame["body"].strip(" \t\n\r\f\v")
        server_trimmed = frame["body"].strip(SERVER_TRIMS)
        if len({len(trimmed), len(ascii_trimmed), len(server_trimmed)}) > 1:
            verdict = AMBIGUOUS  # which characters count as white space is not spelled out
        if not 1 <= len(trimmed) <= 4000:
            return (INVALID if verdict == VALID else AMBIGUOUS), None
        if any(0xD800 <= ord(c) <= 0xDFFF for c in frame["body"] + frame["client_id"]):
            verdict = AMBIGUOUS  # lone surrogates cannot be stored as UTF-8
    if kind in ("send", "history", "typing", "read") and room not in joined:
        return INVALID, None
    if kind == "leave" and room not in joined:
        verdict = AMBIGUOUS  # not_joined is not listed for leave
    return verdict, REPLY_TYPES[kind]


# ---- strategies ----------------------------------------------------------------------

scalars = (st.none() | st.booleans() | st.integers(-10, 10) | st.integers(min_value=-2**80, max_value=2**80)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20))
junk = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                    max_leaves=8)
rooms = (st.sampled_from([HOME, "fuzz-other", HOME + "\n", "Fuzz", "-x", "a" * 65, "", "x y"])
         | st.from_regex(r"\A[a-z0-9][a-z0-9_-]{0,8}\Z") | st.text(max_size=10) | junk)
bodies = (st.text(max_size=40) | st.sampled_from(["", "   ", "\u00a0", "\u2003x\u2003", "x" * 4001, " " * 10 + "y" * 4000])
          | junk)
client_ids = st.uuids().map(str) | st.sampled_from(["dup-1", "dup-2", "", "c" * 64, "c" * 65]) | st.text(max_size=70) | junk
seqs = st.integers(-3, 120) | st.sampled_from([0, INT64, INT64 + 1, 2**70, -(2**63) - 1]) | st.booleans() | junk
refs = st.text(max_size=70) | st.sampled_from(["r" * 64, "r" * 65]) | junk
field_values = {"room": rooms, "body": bodies, "client_id": client_ids, "since": seqs, "before": seqs,
                "limit": seqs, "seq": seqs, "active": st.booleans() | junk, "ref": refs}
fields_for = {"ping": [], "rooms": [], "join": ["room", "since"], "leave": ["room"],
              "send": ["room", "body", "client_id"], "history": ["room", "before", "limit"],
              "typing": ["room", "active"], "read": ["room", "seq"]}


@st.composite
def typed_frames(draw):
    kind = draw(st.sampled_from(sorted(fields_for)) | st.text(max_size=8) | junk)
    frame = {"type": kind} if draw(st.integers(0, 20)) else {}
    names = fields_for.get(kind, []) if isinstance(kind, str) else []
    for name in names + ["ref"]:
        if draw(st.integers(0, 9)) < 8 if name != "ref" else draw(st.booleans()):
            frame[name] = draw(field_values[name])
    if draw(st.integers(0, 9)) == 0:
        frame.update(draw(st.dictionaries(st.text(max_size=6), junk, max_size=2)))
    return frame


good_values = {"room": st.sampled_from([HOME, HOME, "fuzz-other"]) | st.from_regex(r"\A[a-z0-9][a-z0-9_-]{0,5}\Z"),
               "body": st.text(min_size=1, max_size=30), "client_id": st.uuids().map(str) | st.sampled_from(["dup-1", "dup-2"]),
               "since": st.integers(0, 50), "before": st.integers(0, 60), "limit": st.integers(1, 100),
               "seq": st.integers(0, 60), "active": st.booleans(), "ref": st.text(max_size=64)}


@st.composite
def good_frames(draw):
    """Mostly well-formed frames, so valid and single-fault ones are common."""
    kind = draw(st.sampled_from(sorted(fields_for)))
    frame = {"type": kind}
    for name in fields_for[kind]:
        if name in ("since", "limit") and draw(st.booleans()):
            continue
        frame[name] = draw(good_values[name])
    if draw(st.booleans()):
        frame["ref"] = draw(good_values["ref"])
    if frame.get("room") == "fuzz-other" and kind == "leave":
        frame["room"] = HOME
    return frame


raw_frames = st.one_of(
    good_frames().map(json.dumps),
    good_frames().map(json.dumps),
    good_frames().map(json.dumps),
    typed_frames().map(json.dumps),
    typed_frames().map(json.dumps),
    typed_frames().map(json.dumps),
    junk.map(json.dumps),
    st.text(max_size=40),
    st.sampled_from(['{"type": "ping"', "{'type': 'ping'}", "NaN", "[]", "1e999", '{"type": "ping", "type": 5}',
                     '{"type":"send","room":"fuzz-home","body":"\\ud800","client_id":"s1"}',
                     '{"type":"join","room":"fuzz-home","since":1e400}', "\x00", '"\\u0000"']),
    st.binary(max_size=40),
)


# ---- the run ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fuzz_server():
    topology = Topology(kind="fuzz", extra_env=GENEROUS_LIMITS)
    with running(topology):
        yield topology


def sign_up(server) -> str:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        http.get("/api/session")
        r = http.post("/api/users", json={"username": f"fz{secrets.token_hex(5)}", "password": "e2e-" + secrets.token_urlsafe(12)},
                      headers={"X-CSRFToken": http.cookies["csrftoken"]})
        assert r.status_code == 201, r.text
        return "; ".join(f"{k}={http.cookies[k]}" for k in ("sessionid", "csrftoken"))


class FuzzSocket:
    def __init__(self, conn):
        self.conn = conn
        self.barrier = 0
        self.joined: set[str] = set()
        self.acked: dict[str, int] = {}  # room -> highest seq acknowledged by `sent`

    def recv(self, timeout: float = 10) -> dict:
        try:
            return json.loads(self.conn.recv(timeout=timeout))
        except ConnectionClosed as exc:
            raise AssertionError(f"the server closed the socket: {exc}") from exc
        except TimeoutError as exc:
            raise AssertionError(f"no frame within {timeout}s") from exc

    def exchange(self, data: str | bytes) -> list[dict]:
        """Sends data and a ping barrier; the frames that answered data (live `message`s aside)."""
        self.barrier += 1
        ref = f"barrier-{self.barrier}"
        self.conn.send(data)
        self.conn.send(json.dumps({"type": "ping", "ref": ref}))
        answers = []
        while True:
            frame = self.recv()
            if frame.get("type") == "pong" and frame.get("ref") == ref:
                return answers
            if frame.get("type") == "message":
                continue
            answers.append(frame)

    def last_seqs(self) -> dict[str, int]:
        [reply] = self.exchange(json.dumps({"type": "rooms", "ref": "rooms-check"}))
        assert reply["type"] == "rooms", reply
        return {r["name"]: r["last_seq"] for r in reply["rooms"]}

    def check_store(self) -> None:
        for name, last_seq in self.last_seqs().items():
            assert last_seq == self.acked.get(name, 0), (
                f"room {name!r} has last_seq {last_seq} but the socket was acknowledged up to {self.acked.get(name, 0)}")


def test_fuzzed_frames_get_errors_and_store_nothing(fuzz_server):
    server = fuzz_server.servers[0]
    with connect(server.ws_url, additional_headers={"Cookie": sign_up(server)}, origin=server.origin,
                 max_size=None, open_timeout=20) as conn:
        fuzz(server, FuzzSocket(conn))
    log = server.log()
    assert "Traceback" not in log, log[-6000:]


def fuzz(server, sock: FuzzSocket) -> None:
    [joined] = sock.exchange(json.dumps({"type": "join", "room": HOME}))
    assert joined["type"] == "joined"
    sock.joined.add(HOME)
    stats = {INVALID: 0, VALID: 0, AMBIGUOUS: 0}
    start = time.monotonic()
    counter = [0]

    @settings(max_examples=3000, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck))
    @given(data=raw_frames)
    def run(data):
        if isinstance(data, bytes):
            verdict, expected = INVALID, None
            frame = None
        else:
            try:
                frame = json.loads(data)
            except (ValueError, RecursionError):
                frame = None
                verdict, expected = INVALID, None
            else:
                verdict, expected = classify(frame, sock.joined)
        stats[verdict] += 1
        answers = sock.exchange(data)
        for answer in answers:  # follow the server's state whatever the oracle thought
            if answer.get("type") == "joined":
                sock.joined.add(answer["room"])
            elif answer.get("type") == "left":
                sock.joined.discard(answer["room"])
            elif answer.get("type") == "sent":
                m = answer["message"]
                sock.acked[m["room"]] = max(sock.acked.get(m["room"], 0), m["seq"])
            if answer.get("type") == "error":
                assert answer.get("code") in ERROR_CODES and isinstance(answer.get("detail"), str), (data, answer)
        if verdict == INVALID:
            assert len(answers) == 1 and answers[0].get("type") == "error", (data, answers)
            ref = frame.get("ref") if isinstance(frame, dict) else None
            if isinstance(ref, str) and len(ref) <= 64:
                assert answers[0].get("ref") == ref, (data, answers)
        elif verdict == VALID:
            want = [] if expected is None else [expected]
            assert [a.get("type") for a in answers] == want, (data, answers)
            if answers and "ref" in frame:
                assert answers[0].get("ref") == frame["ref"], (data, answers)
        else:
            assert len(answers) <= 1, (data, answers)
        counter[0] += 1
        if counter[0] % 250 == 0:
            sock.check_store()

    run()
    sock.check_store()
    # Still the same healthy socket.
    assert [a["type"] for a in sock.exchange(json.dumps({"type": "ping", "ref": "end"}))] == ["pong"]
    print(f"fuzz: {stats} in {time.monotonic() - start:.1f}s")
    assert stats[INVALID] > 500 and stats[VALID] > 300, stats
