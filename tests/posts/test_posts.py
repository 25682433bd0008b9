"""Posts: create, read, list with cursors, edit and delete by the author or a superuser."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest

from quartet.core.pagination import encode_cursor
from tests.accounts import SignedIn
from tests.posts.conftest import Register, create_post


async def test_create_returns_the_post_with_author_and_counts(
    client: httpx.AsyncClient, api: str, register: Register
) -> None:
    author = await register(full_name="Ada Lovelace")
    body = await create_post(client, api, author, "hello, world")
    assert uuid.UUID(body["id"]).version == 7
    assert body["content"] == "hello, world"
    assert body["author"] == {"id": str(author.id), "name": "Ada Lovelace"}
    assert body["like_count"] == 0
    assert body["liked_by_me"] is False
    created = datetime.fromisoformat(body["created_at"])
    assert created.utcoffset() is not None
    assert datetime.fromisoformat(body["updated_at"]) >= created

    fetched = await client.get(f"{api}/posts/{body['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == body


async def test_author_name_falls_back_to_username_and_never_shows_email(
    client: httpx.AsyncClient, api: str, register: Register
) -> None:
    named = await register(full_name=None, username=f"u{uuid.uuid4().hex[:10]}")
    anonymous = await register(full_name=None)
    by_username = await create_post(client, api, named, "a")
    by_nobody = await create_post(client, api, anonymous, "b")
    assert by_username["author"]["name"].startswith("u")
    assert by_nobody["author"] == {"id": str(anonymous.id), "name": None}
    assert "@" not in str(by_username) + str(by_nobody)


async def test_create_needs_a_token(client: httpx.AsyncClient, api: str) -> None:
    response = await client.post(f"{api}/posts", json={"content": "x"})
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


@pytest.mark.parametrize(
    "payload",
    [
        {"content": ""},
        {"content": "   \n\t "},
        {"content": "x" * 10_001},
        {"content": "nul \x00 inside"},
        {"content": 5},
        {},
        {"content": "ok", "author_id": str(uuid.uuid4())},
    ],
    ids=["empty", "blank", "too-long", "nul", "not-a-string", "missing", "extra-field"],
)
async def test_create_validates_content(
    client: httpx.AsyncClient, api: str, register: Register, payload: dict[str, Any]
) -> None:
    author = await register()
    response = await client.post(f"{api}/posts", json=payload, headers=author.headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "validation_error"


async def test_content_of_exactly_ten_thousand_characters_is_kept(
    client: httpx.AsyncClient, api: str, register: Register
) -> None:
    author = await register()
    text = "é" * 10_000  # characters, not bytes
    body = await create_post(client, api, author, text)
    assert body["content"] == text


async def test_get_missing_post_is_404_and_malformed_id_is_422(
    client: httpx.AsyncClient, api: str
) -> None:
    missing = await client.get(f"{api}/posts/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    assert missing.json()["detail"] == "Post not found"
    assert (await client.get(f"{api}/posts/not-a-uuid")).status_code == 422


async def test_list_pages_newest_first_by_cursor_without_gaps_or_repeats(
    client: httpx.AsyncClient, api: str, register: Register
) -> None:
    author = await register()
    created = [(await create_post(client, api, author, f"post {i}"))["id"] for i in range(23)]
    seen: list[str] = []
    pages: list[int] = []
    cursor: str | None = None
    for _ in range(10):  # bounded: 3 pages expected
        params: dict[str, Any] = {"author_id": str(author.id), "limit": 10}
        if cursor:
            params["cursor"] = cursor
        response = await client.get(f"{api}/posts", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(len(body["items"]))
        seen.extend(item["id"] for item in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == [10, 10, 3]
    assert seen == list(reversed(created))
    assert [uuid.UUID(i) for i in seen] == sorted((uuid.UUID(i) for i in seen), reverse=True)


async def test_last_full_page_has_no_next_cursor(
    client: httpx.AsyncClient, api: str, register: Register
) -> None:
    author = await register()
    for i in range(4):
        await create_post(client, api, author, f"p{i}")
    first = await client.get(f"{api}/posts", params={"author_id": str(author.id), "limit": 2})
    second = await client.get(
        f"{api}/posts",
        params={"author_id": str(author.id), "limit": 2, "cursor": first.json()["next_cursor"]},
    )
    assert len(second.json()["items"]) == 2
    assert second.json()["next_cursor"] is None


async def test_list_defaults_to_twenty_and_filters_by_author(
    client: httpx.AsyncClient, api: str, register: Register
) -> None:
    author, other = await register(), await register()
    for i in range(21):
        await create_post(client, api, author, f"mine {i}")
    await create_post(client, api, other, "theirs")
    response = await client.get(f"{api}/posts", params={"author_id": str(author.id)})
    body = response.json()
    assert len(body["items"]) == 20
    assert body["next_cursor"] is not None
    assert {item["author"]["id"] for item in body["items"]} == {str(author.id)}

    everyone = (await client.get(f"{api}/posts", params={"limit": 100})).json()["items"]
    assert "theirs" in [item["content"] for item in everyone]

    nobody = await client.get(f"{api}/posts", params={"author_id": str(uuid.uuid4())})
    assert nobody.json() == {"items": [], "next_cursor": None}


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 101},
        {"limit": "many"},
        {"cursor": "***"},
        {"cursor": encode_cursor(b"short")},
        {"cursor": "x" * 5000},
        {"author_id": "nobody"},
    ],
    ids=[
        "limit-0",
        "limit-101",
        "limit-text",
        "cursor-junk",
        "cursor-length",
        "cursor-huge",
        "author",
    ],
)
async def test_list_rejects_bad_parameters_with_422(
    client: httpx.AsyncClient, api: str, params: dict[str, Any]
) -> None:
    response = await client.get(f"{api}/posts", params=params)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "validation_error"


async def test_anonymous_reads_are_allowed_but_a_bad_token_is_not(
    client: httpx.AsyncClient, api: str, register: Register
) -> None:
    author = await register()
    post = await create_post(client, api, author, "public")
    listed = await client.get(f"{api}/posts", params={"author_id": str(author.id)})
    assert listed.status_code == 200
    assert [item["id"] for item in listed.json()["items"]] == [post["id"]]
    bad = await client.get(f"{api}/posts", headers={"Authorization": "Bearer nonsense"})
    assert bad.status_code == 401


async def test_author_edits_and_deletes_theircreate_post(
    client: httpx.AsyncClient, api: str, register: Register
) -> None:
    author = await register()
    post = await create_post(client, api, author, "draft")
    edited = await client.patch(
        f"{api}/posts/{post['id']}", json={"content": "final"}, headers=author.headers
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["content"] == "final"
    assert edited.json()["created_at"] == post["created_at"]
    assert edited.json()["updated_at"] >= post["updated_at"]
    assert (await client.get(f"{api}/posts/{post['id']}")).json()["content"] == "final"

    deleted = await client.delete(f"{api}/posts/{post['id']}", headers=author.headers)
    assert deleted.status_code == 204
    assert (await client.get(f"{api}/posts/{post['id']}")).status_code == 404
    again = await client.delete(f"{api}/posts/{post['id']}", headers=author.headers)
    assert again.status_code == 404


async def test_others_get_403_and_the_post_is_untouched(
    client: httpx.AsyncClient, api: str, register: Register
) -> None:
    author, stranger = await register(), await register()
    post = await create_post(client, api, author, "mine")
    url = f"{api}/posts/{post['id']}"
    patched = await client.patch(url, json={"content": "hijacked"}, headers=stranger.headers)
    assert patched.status_code == 403
    assert patched.json()["error"] == "permission_denied"
    assert patched.json()["detail"] == "Requires the permission posts.moderate"
    assert (await client.delete(url, headers=stranger.headers)).status_code == 403
    assert (await client.get(url)).json()["content"] == "mine"


async def test_a_superuser_may_edit_and_delete_anycreate_post(
    client: httpx.AsyncClient, api: str, register: Register, superuser: SignedIn
) -> None:
    author = await register()
    post = await create_post(client, api, author, "rude words")
    url = f"{api}/posts/{post['id']}"
    edited = await client.patch(url, json={"content": "[removed]"}, headers=superuser.headers)
    assert edited.status_code == 200, edited.text
    assert edited.json()["content"] == "[removed]"
    assert edited.json()["author"]["id"] == str(author.id)
    assert (await client.delete(url, headers=superuser.headers)).status_code == 204
    assert (await client.get(url)).status_code == 404


async def test_edit_and_delete_need_a_token_an_existing_post_and_valid_input(
    client: httpx.AsyncClient, api: str, register: Register
) -> None:
    author = await register()
    post = await create_post(client, api, author, "x")
    url = f"{api}/posts/{post['id']}"
    assert (await client.patch(url, json={"content": "y"})).status_code == 401
    assert (await client.delete(url)).status_code == 401
    missing = f"{api}/posts/{uuid.uuid4()}"
    assert (
        await client.patch(missing, json={"content": "y"}, headers=author.headers)
    ).status_code == 404
    assert (await client.delete(missing, headers=author.headers)).status_code == 404
    for bad in ({"content": ""}, {"content": "y", "extra": 1}, {"title": "y"}):
        assert (await client.patch(url, json=bad, headers=author.headers)).status_code == 422
    malformed = f"{api}/posts/123"
    assert (
        await client.patch(malformed, json={"content": "y"}, headers=author.headers)
    ).status_code == 422
    assert (await client.delete(malformed, headers=author.headers)).status_code == 422
