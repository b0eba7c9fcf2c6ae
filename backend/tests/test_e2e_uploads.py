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
