"""The built bundle as a real Daphne serves it: the build's .br and .gz twins
picked by Accept-Encoding, Vary: Accept-Encoding, and caching by name (hashed
names immutable for good, the rest for a minute)."""

from __future__ import annotations

import gzip
import json
import subprocess

import httpx
import pytest

from .harness import REPO_DIR

pytestmark = pytest.mark.e2e

DIST = REPO_DIR / "frontend" / "dist"
MANIFEST = json.loads((DIST / ".vite" / "manifest.json").read_text())
ENTRY = next(chunk for chunk in MANIFEST.values() if chunk.get("isEntry"))
HASHED = [ENTRY["file"], *ENTRY.get("css", [])]
FOREVER = "max-age=315360000, public, immutable"


def brotli_decompress(data: bytes) -> bytes:
    # Node's zlib: no Brotli package in the Python environment, and Node is what built it.
    script = "process.stdout.write(require('zlib').brotliDecompressSync(require('fs').readFileSync(0)))"
    return subprocess.run(["node", "-e", script], input=data, capture_output=True, check=True).stdout


async def raw_get(http: httpx.AsyncClient, path: str, accept_encoding: str | None) -> tuple[httpx.Response, bytes]:
    """The answer and its body exactly as sent, not decoded."""
    request = http.build_request("GET", path)
    if accept_encoding is None:
        del request.headers["Accept-Encoding"]  # httpx's own default, gzip included
    else:
        request.headers["Accept-Encoding"] = accept_encoding
    response = await http.send(request, stream=True)
    try:
        body = b"".join([chunk async for chunk in response.aiter_raw()])
    finally:
        await response.aclose()
    return response, body


@pytest.fixture
async def http(embedded_topo):
    async with httpx.AsyncClient(base_url=embedded_topo.server(0).url, timeout=30) as client:
        yield client


def test_the_build_wrote_compressed_twins_of_every_bundle_file():
    for name in HASHED:
        original = (DIST / name).read_bytes()
        assert gzip.decompress((DIST / f"{name}.gz").read_bytes()) == original
        assert brotli_decompress((DIST / f"{name}.br").read_bytes()) == original


@pytest.mark.parametrize("name", HASHED)
async def test_brotli_when_the_client_takes_it(http, name):
    original = (DIST / name).read_bytes()
    response, body = await raw_get(http, f"/static/{name}", "gzip, deflate, br, zstd")
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "br"
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.headers["cache-control"] == FOREVER
    assert int(response.headers["content-length"]) == len(body) < len(original) / 2
    assert brotli_decompress(body) == original


@pytest.mark.parametrize("name", HASHED)
async def test_gzip_when_the_client_takes_only_gzip(http, name):
    original = (DIST / name).read_bytes()
    response, body = await raw_get(http, f"/static/{name}", "gzip")
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.headers["cache-control"] == FOREVER
    assert len(body) < len(original) / 2
    assert gzip.decompress(body) == original


@pytest.mark.parametrize("accept_encoding", [None, "identity", "deflate"])
async def test_plain_when_the_client_takes_neither(http, accept_encoding):
    original = (DIST / ENTRY["file"]).read_bytes()
    response, body = await raw_get(http, f"/static/{ENTRY['file']}", accept_encoding)
    assert response.status_code == 200
    assert "content-encoding" not in response.headers
    assert response.headers["vary"] == "Accept-Encoding"
    assert body == original


async def test_a_name_without_a_hash_is_cached_briefly(http):
    response, body = await raw_get(http, "/static/favicon.svg", "br")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "max-age=60, public"
    assert "immutable" not in response.headers["cache-control"]
    assert response.headers.get("content-encoding") in {None, "br"}


async def test_the_page_itself_is_never_cached(http):
    response = await http.get("/")
    assert "immutable" not in response.headers.get("cache-control", "")
    assert "no-cache" in response.headers["cache-control"]
