"""Stats: the aggregation pipelines' answers equal the same figures recomputed in Python."""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from quartet.shop.models import Order, OrderLine
from quartet.shop.repository import OrderRepository
from quartet.stores.registry import Stores
from tests.accounts import SignedIn, unique
from tests.shop.conftest import create_product


def _window() -> datetime:
    """A random hour long ago that no other test's orders fall into."""
    rng = random.Random()
    return datetime(2001, 1, 1, tzinfo=UTC) + timedelta(hours=rng.randrange(200_000))


def _synthetic_orders(start: datetime, products: list[tuple[uuid.UUID, str]]) -> list[Order]:
    """Orders spread over [start - 10 min, start + 70 min): some outside the hour."""
    rng = random.Random(7)
    orders = []
    for i in range(60):
        lines = [
            OrderLine(
                product_id=pid,
                name=name,
                quantity=rng.randint(1, 5),
                unit_price=Decimal(rng.randint(1, 5000)) / 100,
            )
            for pid, name in rng.sample(products, rng.randint(1, len(products)))
        ]
        orders.append(
            Order(
                customer_id=uuid.uuid4(),
                customer_name=f"synthetic-{i % 3}",
                items=lines,
                total=sum((li.unit_price * li.quantity for li in lines), Decimal("0.00")),
                status="placed",
                created_at=start + timedelta(minutes=rng.randrange(-10, 70)),
            )
        )
    return orders


async def test_sold_in_a_period_equals_a_recomputation(
    raw_client: httpx.AsyncClient, api: str, stores: Stores, admin: SignedIn
) -> None:
    start = _window()
    end = start + timedelta(hours=1)
    products = [(uuid.uuid4(), unique("p")) for _ in range(5)]
    orders = _synthetic_orders(start, products)
    await OrderRepository(stores.mongo).insert_many(orders)

    quantity: dict[str, int] = defaultdict(int)
    revenue: dict[str, Decimal] = defaultdict(Decimal)
    for order in orders:
        if start <= order.created_at < end:
            for line in order.items:
                quantity[str(line.product_id)] += line.quantity
                revenue[str(line.product_id)] += line.unit_price * line.quantity
    names = {str(pid): name for pid, name in products}

    response = await raw_client.get(
        f"{api}/stats/sold",
        params={"start": start.isoformat(), "end": end.isoformat()},
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total_quantity"] == sum(quantity.values())
    by_product = {p["product_id"]: p for p in body["by_product"]}
    assert set(by_product) == set(quantity)
    for pid, row in by_product.items():
        assert row["quantity"] == quantity[pid]
        assert Decimal(row["revenue"]) == revenue[pid]
        assert row["name"] == names[pid]
    assert [p["quantity"] for p in body["by_product"]] == sorted(quantity.values(), reverse=True)
    assert (body["start"], body["end"]) == (
        start.isoformat().replace("+00:00", "Z"),
        end.isoformat().replace("+00:00", "Z"),
    )

    naive = await raw_client.get(
        f"{api}/stats/sold",
        params={"start": start.replace(tzinfo=None).isoformat(), "end": end.isoformat()},
        headers=admin.headers,
    )
    assert naive.json()["total_quantity"] == body["total_quantity"]
    empty = await raw_client.get(
        f"{api}/stats/sold",
        params={"start": "1990-01-01T00:00:00Z", "end": "1990-01-02T00:00:00Z"},
        headers=admin.headers,
    )
    assert empty.json()["total_quantity"] == 0
    assert empty.json()["by_product"] == []


@pytest.mark.parametrize(
    "params",
    [
        {"start": "2024-02-01T00:00:00Z", "end": "2024-01-01T00:00:00Z"},
        {"start": "2024-01-01T00:00:00Z", "end": "2024-01-01T00:00:00Z"},
        {"start": "yesterday", "end": "2024-01-01T00:00:00Z"},
        {"start": "2024-13-01T00:00:00Z", "end": "2025-01-01T00:00:00Z"},
        {"start": "2024-01-01T00:00:00Z"},
        {},
    ],
)
async def test_bad_or_reversed_periods_are_422(
    raw_client: httpx.AsyncClient, api: str, admin: SignedIn, params: dict[str, str]
) -> None:
    response = await raw_client.get(f"{api}/stats/sold", params=params, headers=admin.headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "validation_error"


async def test_customer_stats_equal_a_recomputation(
    raw_client: httpx.AsyncClient, api: str, admin: SignedIn, customer: SignedIn
) -> None:
    name = unique("Stats Customer")
    cheap = await create_product(raw_client, api, admin, price="0.10", stock=100)
    dear = await create_product(raw_client, api, admin, price="33.33", stock=100)
    placed: list[dict[str, Any]] = []
    for quantities in ((1, 0), (3, 1), (0, 2), (7, 0)):
        items = [
            {"product_id": product["id"], "quantity": quantity}
            for product, quantity in zip((cheap, dear), quantities, strict=True)
            if quantity
        ]
        response = await raw_client.post(
            f"{api}/orders/",
            json={"items": items, "customer_name": name},
            headers=customer.headers,
        )
        assert response.status_code == 201, response.text
        placed.append(response.json())

    response = await raw_client.get(f"{api}/stats/customer/{name}", headers=admin.headers)
    assert response.status_code == 200, response.text
    stats = response.json()
    totals = [Decimal(o["total"]) for o in placed]
    assert stats == {
        "customer": name,
        "order_count": 4,
        "total_spent": str(sum(totals, Decimal(0))),
        "average_order": str((sum(totals, Decimal(0)) / 4).quantize(Decimal("0.01"))),
        "first_order_at": placed[0]["created_at"],
        "last_order_at": placed[-1]["created_at"],
    }
    assert stats["total_spent"] == "101.09"


async def test_unknown_customer_is_404(
    raw_client: httpx.AsyncClient, api: str, admin: SignedIn
) -> None:
    name = unique("nobody")
    response = await raw_client.get(f"{api}/stats/customer/{name}", headers=admin.headers)
    assert response.status_code == 404
    assert name in response.json()["detail"]
    too_long = await raw_client.get(f"{api}/stats/customer/{'x' * 201}", headers=admin.headers)
    assert too_long.status_code == 422


async def test_stats_are_for_superusers(
    raw_client: httpx.AsyncClient, api: str, customer: SignedIn
) -> None:
    period = {"start": "2024-01-01T00:00:00Z", "end": "2024-02-01T00:00:00Z"}
    for url, params in ((f"{api}/stats/sold", period), (f"{api}/stats/customer/x", {})):
        assert (await raw_client.get(url, params=params)).status_code == 401
        forbidden = await raw_client.get(url, params=params, headers=customer.headers)
        assert forbidden.status_code == 403
