"""Likes: idempotent like/unlike, like_count and liked_by_me everywhere, who liked (paginated)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from quartet.core.pagination import encode_cursor
from tests.posts.conftest import Register, create_post


async def test_liking_twice_keeps_one_like(
    client: httpx.AsyncClient, api: str, register: Register
) -> None:
    author, fan = await register(), await register()
    post_id = (await create_post(client, api, author))["id"]
    for _ in range(2):
        response = await client.post(f"{api}/posts/{post_id}/like", headers=fan.headers)
        assert response.status_code == 200, response.text
        assert response.json()["like_count"] == 1
        assert response.json()["liked_by_me"] is True
        assert response.json()["id"] == post_id


async def test_unliking_twice_is_fine_and_unliking_unliked_is_too(
    client: httpx.AsyncClient, api: str, register: Register
) -> None:
    author, fan = await register(), await register()
    post_id = (await create_post(client, api, author))["id"]
    assert (await client.post(f"{api}/posts/{post_id}/like", headers=fan.headers)).is_success
    for _ in range(2):
        response = await client.delete(f"{api}/posts/{post_id}/like", headers=fan.headers)
        assert response.status_code == 200, response.text
        assert response.json()["like_count"] == 0
        assert response.json()["liked_by_me"] is False
    never = await client.delete(f"{api}/posts/{post_id}/like", headers=author.headers)
    assert never.status_code == 200


async def test_liked_by_me_depends_on_the_caller(
    client: httpx.AsyncClient, api: str, register: Register
) -> None:
    author, fan, other = await register(), await register(), await register()
    liked = (await create_post(client, api, author, "liked"))["id"]
    unliked = (await create_post(client, api, author))["id"]
    await client.post(f"{api}/posts/{liked}/like", headers=fan.headers)
    await client.post(f"{api}/posts/{liked}/like", headers=other.headers)

    async def flags(headers: dict[str, str]) -> dict[str, tuple[int, bool]]:
        params = {"author_id": str(author.id)}
        page = (await client.get(f"{api}/posts", params=params, headers=headers)).json()
        single = (await client.get(f"{api}/posts/{liked}", headers=headers)).json()
        assert (single["like_count"], single["liked_by_me"]) == (
            next((i["like_count"], i["liked_by_me"]) for i in page["items"] if i["id"] == liked)
        )
        return {i["id"]: (i["like_count"], i["liked_by_me"]) for i in page["items"]}

    assert await flags(fan.headers) == {liked: (2, True), unliked: (0, False)}
    assert await flags(author.headers) == {liked: (2, False), unliked: (0, False)}
    assert await flags({}) == {liked: (2, False), unliked: (0, False)}


async def test_like_endpoints_need_a_token_and_an_existing_post(
    client: httpx.AsyncClient, api: str, register: Register
) -> None:
    author = await register()
    post_id = (await create_post(client, api, author))["id"]
    assert (await client.post(f"{api}/posts/{post_id}/like")).status_code == 401
    assert (await client.delete(f"{api}/posts/{post_id}/like")).status_code == 401
    missing = uuid.uuid4()
    for method in ("POST", "DELETE"):
        response = await client.request(
            method, f"{api}/posts/{missing}/like", headers=author.headers
        )
        assert response.status_code == 404, response.text
        assert response.json()["detail"] == "Post not found"
        malformed = await client.request(method, f"{api}/posts/nope/like", headers=author.headers)
        assert malformed.status_code == 422
    assert (await client.get(f"{api}/posts/{missing}/likes")).status_code == 404
    assert (await client.get(f"{api}/posts/nope/likes")).status_code == 422


async def test_likers_are_listed_with_cursor_pages(
    client: httpx.AsyncClient, api: str, register: Register
) -> None:
    author = await register()
    post_id = (await create_post(client, api, author))["id"]
    fans = [await register(full_name=f"Fan {i}") for i in range(5)]
    for fan in fans:
        assert (await client.post(f"{api}/posts/{post_id}/like", headers=fan.headers)).is_success

    items: list[dict[str, Any]] = []
    pages: list[int] = []
    cursor: str | None = None
    for _ in range(10):  # bounded: 3 pages expected
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await client.get(f"{api}/posts/{post_id}/likes", params=params)
        assert response.status_code == 200, response.text
        pages.append(len(response.json()["items"]))
        items.extend(response.json()["items"])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    assert pages == [2, 2, 1]
    assert {i["user"]["id"] for i in items} == {str(f.id) for f in fans}
    assert len(items) == 5
    assert {i["user"]["name"] for i in items} == {f"Fan {i}" for i in range(5)}
    # one transaction here, so the like times tie and the user id breaks the tie
    keys = [(i["liked_at"], i["user"]["id"]) for i in items]
    assert keys == sorted(keys, reverse=True)


async def test_likers_are_most_recent_first(
    raw_client: httpx.AsyncClient, api: str, raw_register: Register
) -> None:
    author = await raw_register()
    post_id = (await create_post(raw_client, api, author))["id"]
    fans = [await raw_register() for _ in range(3)]
    for fan in fans:
        await raw_client.post(f"{api}/posts/{post_id}/like", headers=fan.headers)
    body = (await raw_client.get(f"{api}/posts/{post_id}/likes")).json()
    assert [i["user"]["id"] for i in body["items"]] == [str(f.id) for f in reversed(fans)]
    assert body["next_cursor"] is None


async def test_likers_of_an_unliked_post_is_an_empty_page(
    client: httpx.AsyncClient, api: str, register: Register
) -> None:
    author = await register()
    post_id = (await create_post(client, api, author))["id"]
    response = await client.get(f"{api}/posts/{post_id}/likes")
    assert response.json() == {"items": [], "next_cursor": None}


async def test_likers_rejects_bad_cursor_and_limit(
    client: httpx.AsyncClient, api: str, register: Register
) -> None:
    author = await register()
    post_id = (await create_post(client, api, author))["id"]
    url = f"{api}/posts/{post_id}/likes"
    out_of_range = encode_cursor((2**63 - 1).to_bytes(8, "big") + uuid.uuid4().bytes)
    for params in (
        {"cursor": "%%%"},
        {"cursor": encode_cursor(uuid.uuid4().bytes)},  # a post cursor is not a like cursor
        {"cursor": out_of_range},
        {"limit": 0},
        {"limit": 101},
    ):
        response = await client.get(url, params=params)
        assert response.status_code == 422, (params, response.text)
