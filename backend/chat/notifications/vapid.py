"""The server's VAPID keys: what identifies this server to push services.

Web Push is on when VAPID_PRIVATE_KEY and VAPID_PUBLIC_KEY are both set; the
page then carries the public key (<meta name="vapid-public-key">) for the
browser's pushManager.subscribe, and chat/notifications/push.py signs each push
with the private key (py_vapid, which comes with pywebpush).

`python -m chat.notifications.vapid DIR` writes a new pair to DIR/vapid-private-key
and DIR/vapid-public-key unless the first exists: what `make run` and
`make dev` do in var/, as they make var/secret-key.
"""

from __future__ import annotations

import base64
import functools
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

PRIVATE_FILE = "vapid-private-key"
PUBLIC_FILE = "vapid-public-key"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def public_point(key: ec.EllipticCurvePrivateKey) -> bytes:
    """The public key as browsers take it: an uncompressed P-256 point, 65 bytes."""
    return key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def generate() -> tuple[str, str]:
    """A new pair, base64url: (the private scalar's 32 bytes, the public point's 65)."""
    key = ec.generate_private_key(ec.SECP256R1())
    return b64url(key.private_numbers().private_value.to_bytes(32, "big")), b64url(public_point(key))


def configured() -> bool:
    from django.conf import settings

    return bool(settings.VAPID_PRIVATE_KEY and settings.VAPID_PUBLIC_KEY)


def public_key() -> str | None:
    """What the page's meta tag carries: the public key when Web Push is on."""
    from django.conf import settings

    return settings.VAPID_PUBLIC_KEY if configured() else None


def signer():
    """The private key as pywebpush takes it (a py_vapid Vapid); ValueError
    when the setting holds no P-256 key."""
    from django.conf import settings

    return _signer(settings.VAPID_PRIVATE_KEY)


@functools.cache
def _signer(private_key: str):
    from py_vapid import Vapid

    try:
        if private_key.startswith("-----BEGIN"):
            vapid = Vapid.from_pem(private_key.encode())
        else:
            vapid = Vapid.from_string(private_key)
    except Exception as error:
        raise ValueError(f"VAPID_PRIVATE_KEY is not a P-256 private key ({type(error).__name__})") from None
    if not isinstance(vapid.private_key, ec.EllipticCurvePrivateKey) or vapid.private_key.curve.name != "secp256r1":
        raise ValueError("VAPID_PRIVATE_KEY is not a P-256 private key")
    return vapid


def matches(private_key: str, public_key: str) -> bool:
    """Whether the public key setting is the private key's (a mismatch: every push service refuses)."""
    return b64url(public_point(_signer(private_key).private_key)) == public_key.rstrip("=")


def write_pair(directory: Path) -> bool:
    """A new pair in directory unless one is there; True when written."""
    private_path, public_path = directory / PRIVATE_FILE, directory / PUBLIC_FILE
    if private_path.exists() and public_path.exists():
        return False
    directory.mkdir(parents=True, exist_ok=True)
    private, public = generate()
    private_path.touch(mode=0o600)
    private_path.write_text(private + "\n")
    public_path.write_text(public + "\n")
    return True


if __name__ == "__main__":
    write_pair(Path(sys.argv[1]))
