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
import socket
import subprocess

import httpx
import pytest
from PIL import Image

from .harness import BACKEND_DIR, GENEROUS_LIMITS, PYTHON, Topology, running, unique_room

pytestmark = pytest.mark.e2e

LIMIT = 1024 * 1024
# A user's uploads no message holds may add up to this (four files of the limit).
PENDING = 4 * LIMIT


@pytest.fixture(scope="module")
def uploads():
    env = {**GENEROUS_LIMITS, "CHAT_UPLOAD_MAX_BYTES": str(LIMIT), "CHAT_UPLOAD_PENDING_MAX_BYTES": str(PENDING)}
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


async def test_a_byte_range_is_answered_206_with_that_slice(topo):
    (alice,) = await topo.users(1)
    data = bytes(range(256)) * 1200  # 300 KiB: the slices cross the server's 256 KiB reads
    r = await upload(alice, "clip.bin", data)
    assert r.status_code == 201, r.text
    url = r.json()["upload"]["url"]
    async with alice.http() as http:
        whole = await http.get(url)
        assert whole.status_code == 200 and whole.content == data
        assert whole.headers["accept-ranges"] == "bytes"

        part = await http.get(url, headers={"Range": "bytes=1000-269999"})
        assert part.status_code == 206
        assert part.content == data[1000:270000]
        assert part.headers["content-range"] == f"bytes 1000-269999/{len(data)}"
        assert part.headers["content-length"] == str(269000)
        assert part.headers["content-disposition"] == whole.headers["content-disposition"]

        tail = await http.get(url, headers={"Range": "bytes=-100"})
        assert tail.status_code == 206 and tail.content == data[-100:]
        rest = await http.get(url, headers={"Range": f"bytes={len(data) - 5}-"})
        assert rest.status_code == 206 and rest.content == data[-5:]

        past = await http.get(url, headers={"Range": f"bytes={len(data)}-"})
        assert past.status_code == 416 and past.content == b""
        assert past.headers["content-range"] == f"bytes */{len(data)}"

        # Several ranges, a range we cannot check against If-Range, a malformed one: the whole file.
        for headers in ({"Range": "bytes=0-1,5-9"}, {"Range": "bytes=0-9", "If-Range": '"v1"'},
                        {"Range": "bytes=9-5"}, {"Range": "bytes=\u00b2-".encode("latin-1")}):
            r = await http.get(url, headers=headers)
            assert r.status_code == 200 and r.content == data, headers

        head = await http.head(url, headers={"Range": "bytes=0-9"})
        assert head.status_code == 206 and head.headers["content-range"] == f"bytes 0-9/{len(data)}"
        assert head.headers["content-length"] == "10" and head.content == b""


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
    eleven = [(await upload(alice, f"{k}.txt", b"k")).json()["upload"]["id"] for k in range(11)]
    too_many = await a.request({"type": "send", "room": room, "body": "x", "client_id": unique_room("c"),
                                "attachments": eleven})
    assert too_many["type"] == "error" and too_many["code"] == "invalid_attachment"
    assert (await send_with(a, room, eleven[:10]))["attachments"][9]["id"] == eleven[9]

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


async def test_uploads_waiting_to_be_sent_are_bounded_per_user(topo):
    """Uploads wait a day for the clean-up: without a bound, one user could
    fill the disk. Past CHAT_UPLOAD_PENDING_MAX_BYTES of files no message
    holds, that user's uploads are refused (429) before the body is read;
    others are not affected."""
    # Users of their own: the pool's carry other tests' uploads.
    alice, bob = await topo.new_user(), await topo.new_user()
    for n in range(3):
        assert (await upload(alice, f"f{n}.bin", b"\0" * LIMIT)).status_code == 201
    refused = await upload(alice, "f3.bin", b"\0" * LIMIT)  # 3 MiB waiting + 1 MiB and its envelope
    assert refused.status_code == 429 and "waiting to be sent" in refused.json()["error"]
    assert (await upload(alice, "small.bin", b"\0" * 1000)).status_code == 201
    assert (await upload(bob, "f0.bin", b"\0" * LIMIT)).status_code == 201


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


# ---- images ------------------------------------------------------------------------


def jpeg_with_gps(size=(1200, 900), orientation: int | None = None) -> bytes:
    image = Image.new("RGB", size, (20, 120, 220))
    exif = Image.Exif()
    exif[0x010F] = "Camera Maker"  # Make
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (48.0, 51.0, 29.0), "E", (2.0, 17.0, 40.0)
    if orientation is not None:
        exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


async def test_a_jpeg_is_served_without_its_exif_upright_with_a_jpeg_thumbnail(topo):
    (alice,) = await topo.users(1)
    original = jpeg_with_gps(orientation=6)  # stored sideways: shown rotated by 90°
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # the test's own check

    attachment = (await upload(alice, "photo.jpg", original, "image/jpeg")).json()["upload"]
    assert attachment["content_type"] == "image/jpeg"
    assert attachment["image"] == {"width": 900, "height": 1200,
                                   "thumbnail_url": f"/api/uploads/{attachment['id']}/thumbnail"}

    served = await get(alice, attachment["url"])
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert served.headers["content-disposition"].startswith("inline;")
    assert attachment["size"] == len(served.content)
    image = Image.open(io.BytesIO(served.content))
    assert image.size == (900, 1200)
    exif = image.getexif()
    assert not exif.get_ifd(0x8825) and 0x010F not in exif and 0x0112 not in exif
    assert b"Camera Maker" not in served.content

    thumb = await get(alice, attachment["image"]["thumbnail_url"])
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    small = Image.open(io.BytesIO(thumb.content))
    assert small.format == "JPEG" and small.size == (300, 400)
    assert not small.getexif()


async def test_a_png_with_alpha_gets_a_png_thumbnail_and_a_gif_is_kept_as_sent(topo):
    (alice,) = await topo.users(1)
    attachment = (await upload(alice, "logo.png", png_bytes((1000, 500), "RGBA", (0, 0, 0, 0)))).json()["upload"]
    assert attachment["content_type"] == "image/png"
    assert attachment["image"]["width"] == 1000 and attachment["image"]["height"] == 500
    thumb = await get(alice, attachment["image"]["thumbnail_url"])
    assert thumb.headers["content-type"] == "image/png"
    small = Image.open(io.BytesIO(thumb.content))
    assert small.format == "PNG" and small.size == (400, 200) and small.mode == "RGBA"

    frames = [Image.new("P", (40, 30), color) for color in (1, 2, 3)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    gif = (await upload(alice, "anim.gif", out.getvalue())).json()["upload"]
    assert gif["content_type"] == "image/gif" and gif["image"]["width"] == 40
    served = await get(alice, gif["url"])
    assert served.content == out.getvalue() and served.headers["content-disposition"].startswith("inline;")


async def test_unreadable_and_oversized_images_are_plain_files(topo):
    (alice,) = await topo.users(1)
    broken = (await upload(alice, "broken.png", b"\x89PNG\r\n\x1a\nnot really a png")).json()["upload"]
    assert broken["image"] is None and broken["content_type"] == "application/octet-stream"
    served = await get(alice, broken["url"])
    assert served.headers["content-disposition"].startswith("attachment;")

    # 8000 x 7000 = 56 megapixels, a few kB as a one-bit PNG: never decoded.
    out = io.BytesIO()
    Image.new("1", (8000, 7000), 1).save(out, "PNG")
    huge = (await upload(alice, "huge.png", out.getvalue())).json()["upload"]
    assert huge["image"] is None and huge["size"] == len(out.getvalue())
    assert (await get(alice, f"/api/uploads/{huge['id']}/thumbnail")).status_code == 404


@pytest.mark.parametrize("name, body, content_type", [
    ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "image/svg+xml"),
    ("page.html", b"<html><script>alert(1)</script></html>", "text/html"),
])
async def test_svg_and_html_are_only_ever_attachments(topo, name, body, content_type):
    (alice,) = await topo.users(1)
    attachment = (await upload(alice, name, body, content_type)).json()["upload"]
    assert attachment["image"] is None and attachment["content_type"] == content_type
    served = await get(alice, attachment["url"])
    assert served.content == body
    assert served.headers["content-disposition"].startswith("attachment;")
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-security-policy"] == "default-src 'none'; sandbox"


# ---- clean-up ------------------------------------------------------------------------


def manage(topo, *args: str) -> str:
    env = {**topo.env(), "DJANGO_SETTINGS_MODULE": "config.settings"}
    done = subprocess.run([str(PYTHON), *args], cwd=BACKEND_DIR, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


AGE = """
import sys, django
django.setup()
from datetime import timedelta
from django.utils import timezone
from chat.models import Upload
Upload.objects.filter(pk__in=sys.argv[1:]).update(created_at=timezone.now() - timedelta(hours=25))
"""


async def test_cleanup_removes_old_unheld_uploads_and_deleted_messages_files_once(topo):
    (alice,) = await topo.users(1)
    room = unique_room("clean")
    sock = await alice.ws()
    await sock.join(room)
    fresh, old, kept, gone = [(await upload(alice, f"{k}.txt", k.encode())).json()["upload"]
                              for k in ("fresh", "old", "kept", "gone")]
    await send_with(sock, room, [kept["id"]])
    deleted = await send_with(sock, room, [gone["id"]])
    await sock.ok({"type": "delete", "room": room, "seq": deleted["seq"]}, "deleted")
    manage(topo, "-c", AGE, old["id"], kept["id"])
    files = topo.var_dir / "uploads"
    assert (files / old["id"] / "file").exists() and (files / gone["id"] / "file").exists()

    report = manage(topo, "manage.py", "chat_cleanup")
    assert f"unheld {old['id']}" in report and f"deleted message {gone['id']}" in report
    assert fresh["id"] not in report and kept["id"] not in report
    assert not (files / old["id"] / "file").exists() and not (files / gone["id"] / "file").exists()
    assert (await get(alice, old["url"])).status_code == 404
    for still in (fresh, kept):
        assert (await get(alice, still["url"])).status_code == 200

    again = manage(topo, "manage.py", "chat_cleanup")
    assert "removed 0 upload(s) no message held, 0 of deleted messages" in again


DELETE_USER = """
import sys, django
django.setup()
from django.contrib.auth import get_user_model
get_user_model().objects.filter(username=sys.argv[1]).delete()
"""


async def test_a_deleted_accounts_files_go_with_it(topo):
    alice, bob = await topo.users(2)
    room = unique_room("gone")
    sock = await alice.ws()
    await sock.join(room)
    sent = (await upload(alice, "sent.png", png_bytes())).json()["upload"]
    unsent = (await upload(alice, "unsent.txt", b"draft")).json()["upload"]
    kept = (await upload(bob, "bob.txt", b"bob's")).json()["upload"]
    await send_with(sock, room, [sent["id"]])
    await sock.close()
    files = topo.var_dir / "uploads"

    def stored(upload: dict) -> list[str]:
        folder = files / upload["id"]
        return sorted(path.name for path in folder.iterdir()) if folder.exists() else []

    assert stored(sent) == ["file", "thumbnail.jpg"] and stored(unsent) == ["file"]

    manage(topo, "-c", DELETE_USER, alice.username)

    assert stored(sent) == [] and stored(unsent) == []
    assert stored(kept) == ["file"]  # another user's stay
    assert (await get(bob, kept["url"])).status_code == 200
