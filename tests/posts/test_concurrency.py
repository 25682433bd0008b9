"""Concurrent likes over real commits: exact counts, one like per user whatever the race."""

from __future__ import annotations

import asyncio

import httpx

from tests.posts.conftest import Register, create_post

FANS = 24  # below the pool's 30 connections, so every request runs at once
REPEATS = 16


async def test_many_users_liking_at_once_give_an_exact_count(
    raw_client: httpx.AsyncClient, api: str, raw_register: Register
) -> None:
    author = await raw_register()
    post_id = (await create_post(raw_client, api, author, "popular"))["id"]
    fans = [await raw_register() for _ in range(FANS)]

    responses = await asyncio.gather(
        *(raw_client.post(f"{api}/posts/{post_id}/like", headers=f.headers) for f in fans)
    )
    assert [r.status_code for r in responses] == [200] * FANS
    assert all(1 <= r.json()["like_count"] <= FANS for r in responses)

    post = (await raw_client.get(f"{api}/posts/{post_id}")).json()
    assert post["like_count"] == FANS
    likers = (await raw_client.get(f"{api}/posts/{post_id}/likes", params={"limit": 100})).json()
    assert sorted(i["user"]["id"] for i in likers["items"]) == sorted(str(f.id) for f in fans)


async def test_one_user_liking_concurrently_gives_exactly_one_like(
    raw_client: httpx.AsyncClient, api: str, raw_register: Register
) -> None:
    author, fan = await raw_register(), await raw_register()
    post_id = (await create_post(raw_client, api, author, "x"))["id"]

    responses = await asyncio.gather(
        *(
            raw_client.post(f"{api}/posts/{post_id}/like", headers=fan.headers)
            for _ in range(REPEATS)
        )
    )
    assert [r.status_code for r in responses] == [200] * REPEATS
    assert {(r.json()["like_count"], r.json()["liked_by_me"]) for r in responses} == {(1, True)}
    likers = (await raw_client.get(f"{api}/posts/{post_id}/likes")).json()
    assert [i["user"]["id"] for i in likers["items"]] == [str(fan.id)]

    unliked = await asyncio.gather(
        *(
            raw_client.delete(f"{api}/posts/{post_id}/like", headers=fan.headers)
            for _ in range(REPEATS)
        )
    )
    assert [r.status_code for r in unliked] == [200] * REPEATS
    assert (await raw_client.get(f"{api}/posts/{post_id}")).json()["like_count"] == 0


async def test_likes_and_a_deletion_racing_never_fail_with_500(
    raw_client: httpx.AsyncClient, api: str, raw_register: Register
) -> None:
    author = await raw_register()
    fans = [await raw_register() for _ in range(8)]
    post_id = (await create_post(raw_client, api, author, "x"))["id"]
    likes = [raw_client.post(f"{api}/posts/{post_id}/like", headers=f.headers) for f in fans]
    deletion = raw_client.delete(f"{api}/posts/{post_id}", headers=author.headers)
    *liked, deleted = await asyncio.gather(*likes, deletion)
    assert deleted.status_code == 204
    assert {r.status_code for r in liked} <= {200, 404}
    assert (await raw_client.get(f"{api}/posts/{post_id}")).status_code == 404
