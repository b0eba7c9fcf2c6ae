"""Limits per client address on the account endpoints.

The address is REMOTE_ADDR: the peer Daphne saw or, behind the proxy (Daphne's
--proxy-headers), the client the proxy names. Never a header a client sets
for itself, so X-Forwarded-For sent straight to Daphne changes nothing.
"""

import ipaddress

from asgiref.sync import async_to_sync


def client_address(request) -> str | None:
    """The address limits count by. An IPv6 client counts as its /64 network:
    one subscriber usually holds all of it, and could otherwise take a fresh
    address for every request."""
    address = request.META.get("REMOTE_ADDR") or None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False).network_address)
    return str(ip)


def signup_wait(request) -> float | None:
    """Counts a sign-up from the request's address (CHAT_SIGNUP_RATE): None if
    it may go ahead, else the seconds until the address may sign up again."""
    return async_to_sync(_signup_hit)(f"signup:{client_address(request)}")


async def _signup_hit(key: str) -> float | None:
    from chat.ratelimit import get_limiter  # the limiter holds a loop's Redis client; imported late

    limiter = get_limiter("CHAT_SIGNUP_RATE")
    if await limiter.hit(key):
        return None
    return await limiter.retry_after(key)
