"""Deleting a user removes their posts and likes; deleting a post removes its likes."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from quartet.posts.models import Like, Post
from quartet.users.repository import UserRepository
from tests.accounts import SignedIn
from tests.posts.conftest import Register, create_post


async def _like(http: httpx.AsyncClient, api: str, who: SignedIn, post_id: str) -> None:
    assert (await http.post(f"{api}/posts/{post_id}/like", headers=who.headers)).is_success


async def _count(db: AsyncSession, *where: ColumnElement[bool]) -> int:
    return int(await db.scalar(select(func.count()).select_from(Like).where(*where)) or 0)


async def test_deleting_a_user_removes_their_posts_and_likes(
    client: httpx.AsyncClient, api: str, register: Register, db: AsyncSession
) -> None:
    gone, stays = await register(), await register()
    gone_post = (await create_post(client, api, gone))["id"]
    stays_post = (await create_post(client, api, stays))["id"]
    await _like(client, api, gone, stays_post)
    await _like(client, api, gone, gone_post)
    await _like(client, api, stays, gone_post)

    users = UserRepository(db)
    await users.delete(await users.get(gone.id))

    assert (await client.get(f"{api}/posts/{gone_post}")).status_code == 404
    assert await db.scalar(select(func.count()).where(col(Post.author_id) == gone.id)) == 0
    assert await _count(db, col(Like.user_id) == gone.id) == 0
    assert await _count(db, col(Like.post_id) == uuid.UUID(gone_post)) == 0
    remaining = (await client.get(f"{api}/posts/{stays_post}", headers=stays.headers)).json()
    assert remaining["like_count"] == 0
    likers = (await client.get(f"{api}/posts/{stays_post}/likes")).json()
    assert likers == {"items": [], "next_cursor": None}


async def test_deleting_a_post_removes_its_likes_only(
    client: httpx.AsyncClient, api: str, register: Register, db: AsyncSession
) -> None:
    author, fan = await register(), await register()
    doomed = (await create_post(client, api, author))["id"]
    kept = (await create_post(client, api, author))["id"]
    for post_id in (doomed, kept):
        await _like(client, api, fan, post_id)
        await _like(client, api, author, post_id)
    assert (await client.delete(f"{api}/posts/{doomed}", headers=author.headers)).status_code == 204
    assert await _count(db, col(Like.post_id) == uuid.UUID(doomed)) == 0
    assert await _count(db, col(Like.post_id) == uuid.UUID(kept)) == 2


async def test_a_deleted_account_can_neither_post_nor_like(
    client: httpx.AsyncClient, api: str, register: Register, db: AsyncSession
) -> None:
    """Its token is still unexpired, but the foreign keys refuse it: 401, never a 500."""
    author, gone = await register(), await register()
    post_id = (await create_post(client, api, author))["id"]
    users = UserRepository(db)
    await users.delete(await users.get(gone.id))
    created = await client.post(f"{api}/posts", json={"content": "c"}, headers=gone.headers)
    assert created.status_code == 401, created.text
    liked = await client.post(f"{api}/posts/{post_id}/like", headers=gone.headers)
    assert liked.status_code == 401, liked.text
    assert (await client.get(f"{api}/posts/{post_id}")).json()["like_count"] == 0
