"""Accounts and waits the event-log tests share (on top of tests.auth.flows)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from quartet.events.writer import ActivityWriter
from quartet.stores.registry import Stores
from quartet.users.repository import UserRepository
from tests.auth.flows import bearer, login, register

POLL = 0.02


@dataclass(frozen=True)
class Account:
    user_id: str
    email: str
    password: str
    headers: dict[str, str]


async def account(
    http: httpx.AsyncClient, api: str, stores: Stores, *, superuser: bool = False
) -> Account:
    """A registered user (promoted to superuser before logging in, if asked) and its token."""
    registered = await register(http, api)
    if superuser:

        async def promote(session: AsyncSession) -> None:
            users = UserRepository(session)
            await users.update(await users.get(registered.id), {"is_superuser": True})

        await stores.transactions.run(promote)
    tokens = await login(http, api, registered)
    return Account(
        str(registered.id), registered.email, registered.password, bearer(tokens["access_token"])
    )


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def drained(writer: ActivityWriter, seconds: float = 15.0) -> dict[str, int]:
    """Wait until the activity writer holds nothing; returns its counters."""
    for _ in range(int(seconds / POLL)):
        if not writer.stats()["pending"]:
            return writer.stats()
        await asyncio.sleep(POLL)
    raise AssertionError(f"the activity writer still holds events: {writer.stats()}")
