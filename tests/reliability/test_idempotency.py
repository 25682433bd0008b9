"""Idempotency-Key on creating POSTs: a repeat with the same key and body answers what the first
did without doing the work again; another body is 422; a repeat while the first still runs is
409; a failed first attempt frees the key; keys are per user."""

from __future__ import annotations

import uuid

import httpx

from quartet.idempotency.dependencies import fingerprint
from quartet.idempotency.repository import IdempotencyRepository
from quartet.stores.registry import Stores
from tests.accounts import SignedIn, unique


def keyed(user: SignedIn, key: str) -> dict[str, str]:
    return {**user.headers, "Idempotency-Key": key}


async def test_a_repeated_post_is_answered_from_the_first_without_a_second_post(
    client: httpx.AsyncClient, api: str, user: SignedIn
) -> None:
    key = str(uuid.uuid4())
    first = await client.post(f"{api}/posts", json={"content": "once"}, headers=keyed(user, key))
    assert first.status_code == 201, first.text
    again = await client.post(
        f"{api}/posts", content=b'{ "content" : "once" }', headers=keyed(user, key)
    )
    assert (again.status_code, again.json()) == (201, first.json())
    assert again.headers["idempotent-replayed"] == "true"
    mine = await client.get(f"{api}/posts", params={"author_id": str(user.id)})
    assert [p["id"] for p in mine.json()["items"]] == [first.json()["id"]]

    other_body = await client.post(
        f"{api}/posts", json={"content": "twice"}, headers=keyed(user, key)
    )
    assert (other_body.status_code, other_body.json()["error"]) == (422, "idempotency_key_reused")


async def test_keys_are_per_user_and_per_route(
    client: httpx.AsyncClient, api: str, user: SignedIn, other: SignedIn
) -> None:
    key = unique("k")
    mine = await client.post(f"{api}/posts", json={"content": "a"}, headers=keyed(user, key))
    theirs = await client.post(f"{api}/posts", json={"content": "a"}, headers=keyed(other, key))
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    logged = await client.post(f"{api}/logs/", json={"event_type": "k"}, headers=keyed(user, key))
    assert logged.status_code == 201
    assert "idempotent-replayed" not in logged.headers


async def test_a_repeat_while_the_first_still_runs_is_a_409(
    client: httpx.AsyncClient, api: str, user: SignedIn, stores: Stores
) -> None:
    key = unique("k")
    route = "POST /api/v1/posts"
    repository = IdempotencyRepository(stores.redis, stores.settings.REDIS_KEY_PREFIX)
    body = b'{"content": "slow"}'
    held = await repository.claim(
        repository.key(user.id, route, key), fingerprint("POST", route, body), 60
    )
    assert held.state == "reserved"  # as if the first request were still running
    response = await client.post(
        f"{api}/posts",
        content=body,
        headers={**keyed(user, key), "Content-Type": "application/json"},
    )
    assert response.status_code == 409, response.text
    assert response.json()["error"] == "idempotency_key_in_progress"


async def test_a_failed_first_attempt_frees_the_key_and_an_order_takes_stock_once(
    client: httpx.AsyncClient, api: str, user: SignedIn, superuser: SignedIn
) -> None:
    product = await client.post(
        f"{api}/products/",
        json={"name": unique("p"), "category": unique("c"), "price": "1.00", "stock": 5},
        headers=superuser.headers,
    )
    product_id = product.json()["id"]
    key = unique("order")
    body = {"items": [{"product_id": product_id, "quantity": 9}]}
    short = await client.post(f"{api}/orders/", json=body, headers=keyed(user, key))
    assert short.status_code == 409  # out of stock: nothing done, the key is free again
    again = await client.post(f"{api}/orders/", json=body, headers=keyed(user, key))
    assert again.status_code == 409
    assert "idempotent-replayed" not in again.headers

    body = {"items": [{"product_id": product_id, "quantity": 2}]}
    key = unique("order")
    placed = [
        await client.post(f"{api}/orders/", json=body, headers=keyed(user, key)) for _ in range(3)
    ]
    assert {r.json()["id"] for r in placed} == {placed[0].json()["id"]}
    stock = await client.get(f"{api}/products/{product_id}")
    assert stock.json()["stock"] == 3


async def test_a_malformed_key_is_a_422(
    client: httpx.AsyncClient, api: str, user: SignedIn
) -> None:
    response = await client.post(f"{api}/posts", json={"content": "x"}, headers=keyed(user, "a b"))
    assert response.status_code == 422
