"""No N+1: a page of posts with authors, like counts and liked_by_me costs a fixed number of
SQL statements whatever its size (counted by the app's own PostgreSQL query monitor)."""

from __future__ import annotations

import httpx

from quartet.stores.registry import Stores
from tests.accounts import SignedIn
from tests.posts.conftest import Register, create_post
from tests.query_counts import snapshot, total

PAGE_SIZES = (5, 50)


async def _statements_per_page_size(
    http: httpx.AsyncClient, stores: Stores, url: str, who: SignedIn
) -> dict[int, int]:
    """Statements run by one full page of each of PAGE_SIZES (each page checked to be full)."""
    counts: dict[int, int] = {}
    for size in PAGE_SIZES:
        before = snapshot(stores)
        response = await http.get(url, params={"limit": size}, headers=who.headers)
        assert response.status_code == 200, response.text
        counts[size] = total(before, snapshot(stores))
        assert len(response.json()["items"]) == size
    return counts


async def test_listing_posts_runs_the_same_statements_for_5_or_50(
    client: httpx.AsyncClient, api: str, register: Register, stores: Stores
) -> None:
    authors = [await register(full_name=f"Author {i}") for i in range(5)]
    viewer = await register()
    for n in range(60):
        author = authors[n % len(authors)]
        post_id = (await create_post(client, api, author, f"post {n}"))["id"]
        for fan in (*authors[: n % 4], *([viewer] if n % 2 else [])):
            await client.post(f"{api}/posts/{post_id}/like", headers=fan.headers)

    counts = await _statements_per_page_size(client, stores, f"{api}/posts", viewer)
    assert counts[5] == counts[50], counts
    assert counts[50] <= 3, counts  # the page query, plus at most the savepoint pair

    page = (await client.get(f"{api}/posts", params={"limit": 50}, headers=viewer.headers)).json()
    assert any(item["liked_by_me"] for item in page["items"])
    assert any(item["like_count"] >= 2 for item in page["items"])
    assert len({item["author"]["name"] for item in page["items"]}) == len(authors)


async def test_listing_likers_runs_the_same_statements_for_5_or_50(
    client: httpx.AsyncClient, api: str, register: Register, stores: Stores
) -> None:
    author = await register()
    post_id = (await create_post(client, api, author, "hit"))["id"]
    for _ in range(55):
        fan = await register()
        await client.post(f"{api}/posts/{post_id}/like", headers=fan.headers)
    counts = await _statements_per_page_size(client, stores, f"{api}/posts/{post_id}/likes", author)
    assert counts[5] == counts[50], counts
