"""The real local Mailpit, read through its HTTP API: what the app's SMTP deliveries left."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx

from quartet import local_ports

WAIT_SECONDS = 20.0
API = f"http://{local_ports.HOST}:{local_ports.MAILPIT_HTTP_PORT}/api/v1"


async def messages_to(address: str) -> list[dict[str, Any]]:
    """Summaries of every message to `address`, newest first."""
    async with httpx.AsyncClient(timeout=5) as http:
        response = await http.get(f"{API}/search", params={"query": f'to:"{address}"'})
        response.raise_for_status()
        found: list[dict[str, Any]] = response.json()["messages"]
    return [m for m in found if any(t["Address"] == address for t in m["To"])]


async def message(message_id: str) -> dict[str, Any]:
    """One message in full: Subject, Text, HTML, MessageID, To, ..."""
    async with httpx.AsyncClient(timeout=5) as http:
        response = await http.get(f"{API}/message/{message_id}")
        response.raise_for_status()
        full: dict[str, Any] = response.json()
    return full


async def wait_for_mail(address: str, count: int = 1) -> list[dict[str, Any]]:
    """The `count` messages to `address` (in full, newest first), once that many arrived
    (within WAIT_SECONDS)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        found = await messages_to(address)
        if len(found) >= count:
            return [await message(m["ID"]) for m in found]
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(found)} of {count} messages to {address}")
        await asyncio.sleep(0.2)


async def latest(address: str, count: int = 1) -> dict[str, Any]:
    return (await wait_for_mail(address, count))[0]


def link_token(text: str, page: str) -> str:
    """The `token` of the link to the SPA `page` in a message's text."""
    match = re.search(rf"(\S+/{page}\?\S+)", text)
    assert match, text
    return parse_qs(urlparse(match[1]).query)["token"][0]


def code_in(text: str) -> str:
    match = re.search(r"\b(\d{6})\b", text)
    assert match, text
    return match[1]
