"""Attachments end to end on a real Daphne (docs/protocol.md, "Attachments"):
POST /api/uploads, the files' access rule over HTTP, the size limit cut off
at the door, images re-encoded without EXIF with their thumbnails, and the
clean-up. One process on SQLite with local files, with a 1 MiB upload limit
so the limit tests stay quick.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import socket
import subprocess
import time

import httpx
import pytest
from PIL import Image

from .harness import BACKEND_DIR, GENEROUS_LIMITS, PYTHON, Topology, running, unique_room

pytestmark = pytest.mark.e2e

LIMIT = 1024 * 1024


@pytest.fixture(scope="module")
def uploads():
    env = {**GENEROUS_LIMITS, "CHAT_UPLOAD_MAX_BYTES": str(LIMIT)}
    with running(Topology(kind="uploads", extra_env=env)) as topology:
        yield topology


@pytest.fixture
async def topo(uploads):
    offsets = uploads.log_offsets()
    yield uploads
    await uploads.close_sockets()
    uploads.check_logs(offsets)


def png_bytes(size=(800, 600), mode="RGB", color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, "PNG")
    return out.getvalue()


async def upload(user, name: str, data: bytes, content_type: str = "application/octet-stream") -> httpx.Response:
    async with user.http() as http:
        return await http.post("/api/uploads", files={"file": (name, data, content_type)})


async def get(user, path: str) -> httpx.Response:
    async with user.http() as http:
        return await http.get(path)


# ---- upload --------------------------------------------------------------------


async def test_upload_answers_201_with_the_attachment_and_the_uploader_gets_it_back(topo):
    (alice,) = await topo.users(1)
    r = await upload(alice, "notes ü.txt", b"hello\n", "text/plain")
    assert r.status_code == 201, r.text
    attachment = r.json()["upload"]
    assert set(attachment) == {"id", "name", "size", "content_type", "url", "image"}
    assert attachment["name"] == "notes ü.txt" and attachment["size"] == 6
    assert attachment["content_type"] == "text/plain" and attachment["image"] is None
    assert attachment["url"] == f"/api/uploads/{attachment['id']}/notes%20%C3%BC.txt"
    assert len(attachment["id"]) >= 22

    got = await get(alice, attachment["url"])
    assert got.status_code == 200 and got.content == b"hello\n"
    assert got.headers["content-type"].startswith("text/plain")
    assert got.headers["content-disposition"] == "attachment; filename=\"notes u.txt\"; filename*=UTF-8''notes%20%C3%BC.txt"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-security-policy"] == "default-src 'none'; sandbox"


async def test_a_stranger_and_an_anonymous_client_get_the_404_of_a_missing_id(topo):
    alice, bob = await topo.users(2)
    attachment = (await upload(alice, "secret.txt", b"s3cret")).json()["upload"]
    for who in (bob,):
        r = await get(who, attachment["url"])
        assert r.status_code == 404 and r.json() == {"error": "not found"}
    async with httpx.AsyncClient(base_url=topo.server(0).url) as anonymous:
        r = await anonymous.get(attachment["url"])
        assert r.status_code == 404 and r.json() == {"error": "not found"}
    missing = await get(bob, f"/api/uploads/{'A' * 24}/secret.txt")
    assert missing.status_code == 404 and missing.json() == {"error": "not found"}


async def test_upload_refusals_are_json(topo):
    (alice,) = await topo.users(1)
    async with httpx.AsyncClient(base_url=topo.server(0).url) as anonymous:
        await anonymous.get("/api/session")
        r = await anonymous.post("/api/uploads", files={"file": ("a.txt", b"x")},
                                 headers={"X-CSRFToken": anonymous.cookies["csrftoken"]})
        assert r.status_code == 401 and "error" in r.json()
    async with alice.http() as http:
        r = await http.post("/api/uploads", files={"other": ("a.txt", b"x")})
        assert r.status_code == 400 and "error" in r.json()
        r = await http.post("/api/uploads", json={"file": "x"})
        assert r.status_code == 400 and "error" in r.json()
        # CSRF as for every POST.
        del http.headers["X-CSRFToken"]
        r = await http.post("/api/uploads", files={"file": ("a.txt", b"x")})
        assert r.status_code == 403 and "error" in r.json()
        r = await http.get("/api/uploads")
        assert r.status_code == 405 and "error" in r.json()


# ---- who may fetch a file --------------------------------------------------------


async def send_with(sock, room: str, ids: list[str], body: str = "") -> dict:
    reply = await sock.ok({"type": "send", "room": room, "body": body, "client_id": unique_room("c"),
                           "attachments": ids}, "sent")
    return reply["message"]


async def test_readers_of_the_room_get_the_file_strangers_do_not_and_nobody_once_deleted(topo):
    alice, bob, carol = await topo.users(3)
    room = unique_room("files")
    a = await alice.ws()
    created = await a.request({"type": "create", "room": room, "kind": "private"})
    assert created["type"] == "joined", created  # `create` joins the room too
    invited = await a.request({"type": "invite", "room": room, "user": bob.username})
    assert invited["type"] == "invited", invited
    b = await bob.ws()
    await b.join(room)

    attachment = (await upload(alice, "plan.pdf", b"%PDF-1.4 not really")).json()["upload"]
    # Before any message holds it, only the uploader may fetch it.
    assert (await get(bob, attachment["url"])).status_code == 404
    message = await send_with(a, room, [attachment["id"]])
    assert message["body"] == "" and message["attachments"] == [attachment]
    live = await b.expect(lambda f: f["type"] == "message" and f["message"]["id"] == message["id"])
    assert live["message"]["attachments"] == [attachment]

    for reader in (alice, bob):
        got = await get(reader, attachment["url"])
        assert got.status_code == 200 and got.content == b"%PDF-1.4 not really"
        assert got.headers["content-type"] == "application/pdf"
        assert got.headers["content-disposition"].startswith("attachment;")
    assert (await get(carol, attachment["url"])).status_code == 404

    # Sent again in another message, or by someone else: refused.
    again = await a.request({"type": "send", "room": room, "body": "x", "client_id": unique_room("c"),
                             "attachments": [attachment["id"]]})
    assert again["type"] == "error" and again["code"] == "invalid_attachment"
    foreign = await b.request({"type": "send", "room": room, "body": "x", "client_id": unique_room("c"),
                               "attachments": [attachment["id"]]})
    assert foreign["type"] == "error" and foreign["code"] == "invalid_attachment"

    deleted = await a.ok({"type": "delete", "room": room, "seq": message["seq"]}, "deleted")
    assert deleted["message"]["attachments"] == []
    for anyone in (alice, bob, carol):
        assert (await get(anyone, attachment["url"])).status_code == 404


# ---- the size limit --------------------------------------------------------------


async def test_a_file_of_the_limit_is_taken_and_one_byte_more_is_413(topo):
    (alice,) = await topo.users(1)
    r = await upload(alice, "exact.bin", b"\0" * LIMIT)
    assert r.status_code == 201 and r.json()["upload"]["size"] == LIMIT
    r = await upload(alice, "over.bin", b"\0" * (LIMIT + 1))
    assert r.status_code == 413 and "error" in r.json()


def raw_request(topo, user, head: str) -> socket.socket:
    conn = socket.create_connection(("127.0.0.1", topo.server(0).port), timeout=10)
    conn.sendall(
        (f"{head}\r\nHost: 127.0.0.1\r\nCookie: {user.cookie_header()}\r\n"
         f"X-CSRFToken: {user.cookies['csrftoken']}\r\n"
         "Content-Type: multipart/form-data; boundary=xyz\r\n").encode()
    )
    return conn


def read_answer(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data or not data.endswith(b"}"):
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


async def test_a_huge_content_length_is_refused_before_any_of_the_body_is_sent(topo):
    (alice,) = await topo.users(1)

    def ask() -> bytes:
        conn = raw_request(topo, alice, "POST /api/uploads HTTP/1.1")
        with conn:
            conn.sendall(f"Content-Length: {10 * 1024**3}\r\n\r\n".encode())
            return read_answer(conn)

    answer = await asyncio.to_thread(ask)
    assert answer.startswith(b"HTTP/1.1 413 "), answer
    head, body = answer.split(b"\r\n\r\n", 1)
    assert b"content-type: application/json" in head.lower()
    assert "error" in json.loads(body)


async def test_a_chunked_body_is_cut_off_once_it_passes_the_limit(topo):
    """Streams up to 64 times the limit and stops at the answer: it comes
    while the client is still sending, long before the end."""
    (alice,) = await topo.users(1)
    piece = b"--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n\r\n" + b"\0" * 65000
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    most = 64 * LIMIT

    def stream() -> tuple[bytes, int]:
        conn = raw_request(topo, alice, "POST /api/uploads HTTP/1.1")
        sent = 0
        with conn:
            conn.sendall(b"Transfer-Encoding: chunked\r\n\r\n")
            conn.settimeout(0.001)
            answer = b""
            while sent < most:
                try:
                    conn.sendall(chunk)
                    sent += len(piece)
                except TimeoutError:
                    pass
                try:
                    answer += conn.recv(65536)
                except TimeoutError:
                    continue
                if answer:
                    break
            conn.settimeout(10)
            return answer + read_answer(conn), sent

    answer, sent = await asyncio.to_thread(stream)
    assert answer.startswith(b"HTTP/1.1 413 "), (answer, sent)
    assert sent < most / 4, sent
    # The connection is fine for the next client, and the server is too.
    assert (await upload(alice, "small.txt", b"ok")).status_code == 201
