"""Products: writes with shop.products_write, public reads, partial updates, stock that never
goes below zero, all-or-nothing bulk creation, deletion of unavailable products, cursor pages by
category."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from datetime import datetime

import httpx
import pytest
from fastapi import FastAPI

from tests.accounts import SignedIn, unique
from tests.clients import http_for
from tests.shop.conftest import create_product, product_body, stock_of

PRODUCT_KEYS = {
    "id",
    "name",
    "description",
    "category",
    "price",
    "stock",
    "is_available",
    "created_at",
    "updated_at",
}


async def test_superuser_creates_a_product_with_money_as_a_decimal_string(
    raw_client: httpx.AsyncClient, api: str, admin: SignedIn
) -> None:
    body = product_body(price=19.9, stock=3)
    response = await raw_client.post(f"{api}/products/", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    product = response.json()
    assert set(product) == PRODUCT_KEYS
    assert product["price"] == "19.90"
    assert (product["name"], product["stock"], product["is_available"]) == (body["name"], 3, True)
    assert uuid.UUID(product["id"]).version == 7
    assert product["created_at"] == product["updated_at"]
    assert product["created_at"].endswith("Z") or product["created_at"].endswith("+00:00")

    fetched = await raw_client.get(f"{api}/products/{product['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == product


async def test_writes_need_shop_products_write(
    raw_client: httpx.AsyncClient, api: str, admin: SignedIn, customer: SignedIn
) -> None:
    product = await create_product(raw_client, api, admin)
    path = f"{api}/products/{product['id']}"
    writes = [
        ("POST", f"{api}/products/", product_body()),
        ("POST", f"{api}/products/bulk", [product_body()]),
        ("PATCH", path, {"is_available": False}),
        ("PATCH", f"{path}/stock", {"stock": 1}),
        ("DELETE", f"{api}/products/unavailable", None),
    ]
    for method, url, body in writes:
        anonymous = await raw_client.request(method, url, json=body)
        assert anonymous.status_code == 401, (method, url, anonymous.text)
        forbidden = await raw_client.request(method, url, json=body, headers=customer.headers)
        assert forbidden.status_code == 403, (method, url, forbidden.text)
        assert forbidden.json()["detail"] == "Requires the permission shop.products_write"
    assert await stock_of(raw_client, api, product["id"]) == 10
    assert (await raw_client.get(path)).json()["is_available"] is True


@pytest.mark.parametrize(
    "overrides",
    [
        {"price": "-0.01"},
        {"price": "1.005"},
        {"price": "1000000000.01"},
        {"price": "abc"},
        {"stock": -1},
        {"stock": 1_000_000_001},
        {"name": ""},
        {"name": "x" * 201},
        {"category": ""},
        {"unexpected": True},
    ],
)
async def test_invalid_products_are_refused(
    raw_client: httpx.AsyncClient, api: str, admin: SignedIn, overrides: dict[str, object]
) -> None:
    response = await raw_client.post(
        f"{api}/products/", json=product_body(**overrides), headers=admin.headers
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "validation_error"


async def test_unknown_or_malformed_ids(
    raw_client: httpx.AsyncClient, api: str, admin: SignedIn
) -> None:
    missing = uuid.uuid4()
    response = await raw_client.get(f"{api}/products/{missing}")
    assert response.status_code == 404
    assert response.json()["detail"] == f"Product {missing} not found"
    assert (await raw_client.get(f"{api}/products/not-a-uuid")).status_code == 422
    patched = await raw_client.patch(
        f"{api}/products/{missing}", json={"price": "1"}, headers=admin.headers
    )
    assert patched.status_code == 404
    stock = await raw_client.patch(
        f"{api}/products/{missing}/stock", json={"delta": 1}, headers=admin.headers
    )
    assert stock.status_code == 404


async def test_partial_update_changes_only_what_is_sent(
    raw_client: httpx.AsyncClient, api: str, admin: SignedIn
) -> None:
    product = await create_product(raw_client, api, admin)
    await asyncio.sleep(0.002)  # updated_at moves on by at least a millisecond
    response = await raw_client.patch(
        f"{api}/products/{product['id']}",
        json={"is_available": False, "price": "9.99"},
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert (updated["is_available"], updated["price"]) == (False, "9.99")
    unchanged = {
        k: v for k, v in updated.items() if k not in {"is_available", "price", "updated_at"}
    }
    assert unchanged == {
        k: v for k, v in product.items() if k not in {"is_available", "price", "updated_at"}
    }
    assert datetime.fromisoformat(updated["updated_at"]) > datetime.fromisoformat(
        product["updated_at"]
    )

    for body in ({}, {"name": None}, {"stock": 5}, {"price": "-1"}):
        refused = await raw_client.patch(
            f"{api}/products/{product['id']}", json=body, headers=admin.headers
        )
        assert refused.status_code == 422, (body, refused.text)


async def test_stock_is_set_or_adjusted_and_never_goes_below_zero(
    raw_client: httpx.AsyncClient, api: str, admin: SignedIn
) -> None:
    product = await create_product(raw_client, api, admin, stock=5)
    url = f"{api}/products/{product['id']}/stock"

    async def change(body: Mapping[str, object]) -> httpx.Response:
        return await raw_client.patch(url, json=body, headers=admin.headers)

    assert (await change({"delta": -3})).json()["stock"] == 2
    assert (await change({"delta": 4})).json()["stock"] == 6
    assert (await change({"stock": 0})).json()["stock"] == 0
    refused = await change({"delta": -1})
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"] == "out_of_stock"
    assert product["id"] in refused.json()["detail"]
    assert await stock_of(raw_client, api, product["id"]) == 0
    assert (await change({"stock": 1})).status_code == 200
    over = await change({"delta": 1_000_000_000})
    assert over.status_code == 409, over.text
    assert await stock_of(raw_client, api, product["id"]) == 1
    for body in ({}, {"stock": 1, "delta": 1}, {"stock": -1}, {"delta": "x"}):
        assert (await change(body)).status_code == 422, body


async def test_concurrent_stock_removals_never_oversell(
    raw_client: httpx.AsyncClient, api: str, admin: SignedIn
) -> None:
    product = await create_product(raw_client, api, admin, stock=5)
    url = f"{api}/products/{product['id']}/stock"
    answers = await asyncio.gather(
        *(raw_client.patch(url, json={"delta": -1}, headers=admin.headers) for _ in range(9))
    )
    assert sorted(a.status_code for a in answers) == [200] * 5 + [409] * 4
    assert await stock_of(raw_client, api, product["id"]) == 0


async def test_bulk_creates_all_or_nothing(
    raw_client: httpx.AsyncClient, api: str, admin: SignedIn
) -> None:
    category = unique("bulk")
    bodies = [product_body(category=category, stock=i) for i in range(5)]
    response = await raw_client.post(f"{api}/products/bulk", json=bodies, headers=admin.headers)
    assert response.status_code == 201, response.text
    created = response.json()
    assert [p["name"] for p in created] == [b["name"] for b in bodies]
    listed = await raw_client.get(f"{api}/products/", params={"category": category})
    assert {p["id"] for p in listed.json()["items"]} == {p["id"] for p in created}

    other = unique("bulk")
    bad = [product_body(category=other), product_body(category=other, price="-1")]
    refused = await raw_client.post(f"{api}/products/bulk", json=bad, headers=admin.headers)
    assert refused.status_code == 422
    assert refused.json()["fields"][0]["loc"][:2] == ["body", 1]
    none = await raw_client.get(f"{api}/products/", params={"category": other})
    assert none.json() == {"items": [], "next_cursor": None}
    body: list[object] | dict[str, str]
    for body in ([], {"name": "not a list"}):
        assert (
            await raw_client.post(f"{api}/products/bulk", json=body, headers=admin.headers)
        ).status_code == 422


async def test_bulk_through_the_compensating_app(
    compensating_app: FastAPI, api: str, admin: SignedIn
) -> None:
    async with http_for(compensating_app) as http:
        category = unique("bulk")
        bodies = [product_body(category=category) for _ in range(3)]
        response = await http.post(f"{api}/products/bulk", json=bodies, headers=admin.headers)
        assert response.status_code == 201, response.text
        listed = await http.get(f"{api}/products/", params={"category": category})
        assert len(listed.json()["items"]) == 3


async def test_list_filters_by_category_and_availability_in_cursor_pages(
    raw_client: httpx.AsyncClient, api: str, admin: SignedIn
) -> None:
    category = unique("page")
    made = [
        await create_product(raw_client, api, admin, category=category, is_available=i % 2 == 0)
        for i in range(7)
    ]
    await create_product(raw_client, api, admin)  # another category: never listed below
    newest_first = [p["id"] for p in reversed(made)]

    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"category": category, "limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = (await raw_client.get(f"{api}/products/", params=params)).json()
        seen += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == newest_first

    available = await raw_client.get(
        f"{api}/products/", params={"category": category, "available": "true", "limit": 100}
    )
    assert [p["id"] for p in available.json()["items"]] == [
        p["id"] for p in reversed(made) if p["is_available"]
    ]
    unavailable = await raw_client.get(
        f"{api}/products/", params={"category": category, "available": "false"}
    )
    assert {p["is_available"] for p in unavailable.json()["items"]} == {False}

    everything = await raw_client.get(f"{api}/products/", params={"limit": 2})
    assert len(everything.json()["items"]) == 2
    for invalid in ({"cursor": "!!"}, {"cursor": "AAAA"}, {"limit": 0}, {"limit": 101}):
        assert (await raw_client.get(f"{api}/products/", params=invalid)).status_code == 422


async def test_delete_unavailable_removes_exactly_those(
    raw_client: httpx.AsyncClient, api: str, admin: SignedIn
) -> None:
    category = unique("gone")
    keep = await create_product(raw_client, api, admin, category=category)
    drop = [
        await create_product(raw_client, api, admin, category=category, is_available=False)
        for _ in range(3)
    ]
    response = await raw_client.delete(f"{api}/products/unavailable", headers=admin.headers)
    assert response.status_code == 200, response.text
    assert response.json()["deleted"] >= 3
    for product in drop:
        assert (await raw_client.get(f"{api}/products/{product['id']}")).status_code == 404
    assert (await raw_client.get(f"{api}/products/{keep['id']}")).status_code == 200
    again = await raw_client.delete(f"{api}/products/unavailable", headers=admin.headers)
    assert again.json() == {"deleted": 0}
