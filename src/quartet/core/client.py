"""Who is calling: the socket peer, or the forwarded address only behind a trusted proxy."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from starlette.requests import Request


def _trusted(address: str, proxies: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def client_ip(request: Request, trusted_proxies: list[str]) -> str:
    """The peer address; when the peer is a listed proxy, the right-most X-Forwarded-For entry
    that is not itself a trusted proxy (entries further left are client-controlled)."""
    peer = request.client.host if request.client else "unknown"
    if not trusted_proxies or not _trusted(peer, trusted_proxies):
        return peer
    forwarded = request.headers.get("x-forwarded-for", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, trusted_proxies):
            return hop
    return peer


def user_agent(request: Request) -> str | None:
    agent = request.headers.get("user-agent")
    return agent[:512] if agent else None


@dataclass(frozen=True)
class ClientMeta:
    """Where a request came from, for audit rows and session records."""

    ip: str
    user_agent: str | None


async def client_meta(request: Request) -> ClientMeta:
    settings = request.app.state.settings
    return ClientMeta(client_ip(request, settings.TRUSTED_PROXIES), user_agent(request))
