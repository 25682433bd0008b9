"""Accounts for the session tests, made through the real register and login endpoints."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.sessions.helpers import Account, sign_up, sign_up_superuser


@pytest.fixture
async def user(client: httpx.AsyncClient, api: str) -> Account:
    return await sign_up(client, api)


@pytest.fixture
async def other(client: httpx.AsyncClient, api: str) -> Account:
    return await sign_up(client, api)


@pytest.fixture
async def superuser(client: httpx.AsyncClient, api: str, db: AsyncSession, app: FastAPI) -> Account:
    return await sign_up_superuser(client, api, db, app=app)
