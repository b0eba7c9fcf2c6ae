"""Attachments on S3: a real S3-compatible server (moto's, in this process,
on a loopback port) behind a real Daphne with CHAT_S3_BUCKET set. Uploads go
to the bucket through django-storages; a download is a 302 to a short-lived
presigned URL that makes the store answer with our Content-Type and
Content-Disposition; the clean-up removes the objects."""

from __future__ import annotations

import io
import subprocess
from urllib.parse import parse_qs, urlsplit

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer
from PIL import Image

from .harness import BACKEND_DIR, GENEROUS_LIMITS, PYTHON, Topology, free_port, running, unique_room
from .test_e2e_uploads import AGE, get, jpeg_with_gps, send_with, upload

pytestmark = pytest.mark.e2e

BUCKET = "chat-uploads"
KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@pytest.fixture(scope="module")
def s3():
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    client.create_bucket(Bucket=BUCKET)
    try:
        yield endpoint, client
    finally:
        server.stop()


@pytest.fixture(scope="module")
def s3_topology(s3):
    endpoint, _ = s3
    env = {**GENEROUS_LIMITS, **KEYS, "CHAT_S3_BUCKET": BUCKET, "CHAT_S3_ENDPOINT_URL": endpoint,
           "CHAT_S3_REGION": "us-east-1"}
    with running(Topology(kind="uploads-s3", extra_env=env)) as topology:
        yield topology


@pytest.fixture
async def topo(s3_topology):
    offsets = s3_topology.log_offsets()
    yield s3_topology
    await s3_topology.close_sockets()
    s3_topology.check_logs(offsets)


def keys(client) -> set[str]:
    return {item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


async def test_uploads_live_in_the_bucket_and_downloads_redirect_to_presigned_urls(topo, s3):
    endpoint, client = s3
    alice, bob, carol = await topo.users(3)
    photo = (await upload(alice, "été.jpg", jpeg_with_gps())).json()["upload"]
    notes = (await upload(alice, "notes.txt", b"plain words")).json()["upload"]
    assert {f"{photo['id']}/file", f"{photo['id']}/thumbnail.jpg", f"{notes['id']}/file"} <= keys(client)
    # Stored re-encoded: the object itself has no GPS.
    stored = client.get_object(Bucket=BUCKET, Key=f"{photo['id']}/file")["Body"].read()
    assert not Image.open(io.BytesIO(stored)).getexif().get_ifd(0x8825)

    room = unique_room("s3")
    a, b = await alice.ws(), await bob.ws()
    await a.join(room)
    await b.join(room)
    await send_with(a, room, [photo["id"], notes["id"]], body="holiday")

    async with httpx.AsyncClient(timeout=30) as store:
        for reader in (alice, bob):
            redirect = await get(reader, photo["url"])
            assert redirect.status_code == 302, redirect.text
            location = redirect.headers["location"]
            assert location.startswith(f"{endpoint}/{BUCKET}/{photo['id']}/file?")
            query = parse_qs(urlsplit(location).query)
            assert query["X-Amz-Expires"] == ["300"]
            assert query["response-content-disposition"] == [
                "inline; filename=\"ete.jpg\"; filename*=UTF-8''%C3%A9t%C3%A9.jpg"
            ]
            served = await store.get(location)
            assert served.status_code == 200 and served.content == stored
            assert served.headers["content-type"] == "image/jpeg"
            assert served.headers["content-disposition"].startswith("inline;")

        thumb = await store.get((await get(bob, photo["image"]["thumbnail_url"])).headers["location"])
        assert thumb.status_code == 200 and Image.open(io.BytesIO(thumb.content)).size == (400, 300)
        text = await store.get((await get(bob, notes["url"])).headers["location"])
        assert text.content == b"plain words" and text.headers["content-disposition"].startswith("attachment;")

    # The room is public: carol may read it. A file no message holds is the uploader's alone.
    assert (await get(carol, photo["url"])).status_code == 302
    unsent = (await upload(alice, "draft.txt", b"draft")).json()["upload"]
    refused = await get(carol, unsent["url"])
    assert refused.status_code == 404 and "location" not in refused.headers


async def test_cleanup_removes_the_objects(topo, s3):
    _, client = s3
    (alice,) = await topo.users(1)
    old = (await upload(alice, "old.txt", b"old")).json()["upload"]
    env = {**topo.env(), "DJANGO_SETTINGS_MODULE": "config.settings"}
    for args in (["-c", AGE, old["id"]], ["manage.py", "chat_cleanup"]):
        done = subprocess.run([str(PYTHON), *args], cwd=BACKEND_DIR, env=env, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
    assert f"unheld {old['id']}" in done.stdout
    assert f"{old['id']}/file" not in keys(client)
