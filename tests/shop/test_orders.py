"""Orders: priced server-side, all items or none, no overselling under concurrency (with
transactions and with compensation), who sees which order."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI

from quartet.shop.models import Order, OrderLine
from quartet.shop.repository import OrderRepository
from quartet.stores.mongo_transactions import MongoTransactions
from quartet.stores.registry import Stores
from tests.accounts import SignedIn, unique
from tests.clients import http_for
from tests.shop.conftest import MakeAccount, create_product, stock_of

ORDER_KEYS = {"id", "customer_id", "customer_name", "items", "total", "status", "created_at"}


def order_body(*items: tuple[str, int], customer_name: str | None = None) -> dict[str, object]:
    body: dict[str, object] = {
        "items": [{"product_id": pid, "quantity": quantity} for pid, quantity in items]
    }
    if customer_name is not None:
        body["customer_name"] = customer_name
    return body


async def test_an_order_is_priced_server_side_and_takes_the_stock(
    shop: httpx.AsyncClient, api: str, admin: SignedIn, customer: SignedIn
) -> None:
    pen = await create_product(shop, api, admin, price="1.25", stock=10)
    ink = await create_product(shop, api, admin, price="3.10", stock=4)
    response = await shop.post(
        f"{api}/orders/", json=order_body((pen["id"], 3), (ink["id"], 4)), headers=customer.headers
    )
    assert response.status_code == 201, response.text
    order = response.json()
    assert set(order) == ORDER_KEYS
    assert order["total"] == "16.15"
    assert order["status"] == "placed"
    assert order["customer_id"] == str(customer.id)
    assert order["customer_name"] == customer.full_name  # loaded through UserRepository
    assert order["items"] == [
        {"product_id": pen["id"], "name": pen["name"], "quantity": 3, "unit_price": "1.25"},
        {"product_id": ink["id"], "name": ink["name"], "quantity": 4, "unit_price": "3.10"},
    ]
    assert await stock_of(shop, api, pen["id"]) == 7
    assert await stock_of(shop, api, ink["id"]) == 0

    # The price at order time stays on the order when the product's price changes later.
    await shop.patch(f"{api}/products/{pen['id']}", json={"price": "9.00"}, headers=admin.headers)
    again = await shop.get(f"{api}/orders/{order['id']}", headers=customer.headers)
    assert again.json() == order


async def test_customer_name_may_be_given(
    shop: httpx.AsyncClient, api: str, admin: SignedIn, customer: SignedIn
) -> None:
    product = await create_product(shop, api, admin)
    name = unique("Ms Buyer")
    response = await shop.post(
        f"{api}/orders/",
        json=order_body((product["id"], 1), customer_name=name),
        headers=customer.headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["customer_name"] == name


async def test_short_stock_is_a_409_naming_the_product(
    shop: httpx.AsyncClient, api: str, admin: SignedIn, customer: SignedIn
) -> None:
    product = await create_product(shop, api, admin, stock=2)
    response = await shop.post(
        f"{api}/orders/", json=order_body((product["id"], 3)), headers=customer.headers
    )
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["error"] == "out_of_stock"
    assert product["id"] in body["detail"]
    assert product["name"] in body["detail"]
    assert "2 in stock; 3 requested" in body["detail"]
    assert await stock_of(shop, api, product["id"]) == 2


async def test_an_order_whose_second_item_is_short_changes_nothing(
    shop: httpx.AsyncClient, api: str, admin: SignedIn, customer: SignedIn
) -> None:
    plenty = await create_product(shop, api, admin, stock=10)
    scarce = await create_product(shop, api, admin, stock=1)
    response = await shop.post(
        f"{api}/orders/",
        json=order_body((plenty["id"], 4), (scarce["id"], 2)),
        headers=customer.headers,
    )
    assert response.status_code == 409, response.text
    assert scarce["id"] in response.json()["detail"]
    assert await stock_of(shop, api, plenty["id"]) == 10
    assert await stock_of(shop, api, scarce["id"]) == 1
    mine = await shop.get(f"{api}/orders/recent", headers=customer.headers)
    assert mine.json() == []


async def test_unavailable_or_unknown_products_refuse_the_whole_order(
    shop: httpx.AsyncClient, api: str, admin: SignedIn, customer: SignedIn
) -> None:
    first = await create_product(shop, api, admin, stock=5)
    hidden = await create_product(shop, api, admin, stock=5, is_available=False)
    unavailable = await shop.post(
        f"{api}/orders/",
        json=order_body((first["id"], 1), (hidden["id"], 1)),
        headers=customer.headers,
    )
    assert unavailable.status_code == 409
    assert unavailable.json()["error"] == "product_unavailable"
    assert hidden["id"] in unavailable.json()["detail"]

    missing = str(uuid.uuid4())
    unknown = await shop.post(
        f"{api}/orders/",
        json=order_body((first["id"], 1), (missing, 1)),
        headers=customer.headers,
    )
    assert unknown.status_code == 404
    assert missing in unknown.json()["detail"]
    assert await stock_of(shop, api, first["id"]) == 5
    assert await stock_of(shop, api, hidden["id"]) == 5


async def test_eight_concurrent_orders_for_six_units_sell_exactly_six(
    shop: httpx.AsyncClient, api: str, admin: SignedIn, make_account: MakeAccount
) -> None:
    product = await create_product(shop, api, admin, stock=6)
    buyers = [await make_account() for _ in range(8)]
    answers = await asyncio.gather(
        *(
            shop.post(f"{api}/orders/", json=order_body((product["id"], 1)), headers=b.headers)
            for b in buyers
        )
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] * 6 + [409] * 2, [a.text for a in answers]
    assert await stock_of(shop, api, product["id"]) == 0
    placed = [a.json()["id"] for a in answers if a.status_code == 201]
    everyone = await shop.get(f"{api}/orders/recent", headers=admin.headers)
    assert set(placed) <= {o["id"] for o in everyone.json()}


async def test_concurrent_multi_item_orders_are_all_or_nothing(
    shop: httpx.AsyncClient, api: str, admin: SignedIn, customer: SignedIn
) -> None:
    """Each order wants one of A and one of B; A has 5, B has 3: three orders can be served,
    and whatever the interleaving, A keeps exactly 5 minus the orders placed."""
    a = await create_product(shop, api, admin, stock=5)
    b = await create_product(shop, api, admin, stock=3)
    answers = await asyncio.gather(
        *(
            shop.post(
                f"{api}/orders/",
                json=order_body((a["id"], 1), (b["id"], 1)),
                headers=customer.headers,
            )
            for _ in range(8)
        )
    )
    placed = sum(1 for r in answers if r.status_code == 201)
    assert placed == 3, [r.text for r in answers]
    assert {r.status_code for r in answers} == {201, 409}
    assert await stock_of(shop, api, b["id"]) == 0
    assert await stock_of(shop, api, a["id"]) == 2


@pytest.mark.parametrize(
    "body",
    [
        {"items": []},
        {"items": [{"product_id": "not-a-uuid", "quantity": 1}]},
        {"items": [{"product_id": str(uuid.uuid4()), "quantity": 0}]},
        {"items": [{"product_id": str(uuid.uuid4()), "quantity": 1001}]},
        {"items": [{"product_id": str(uuid.uuid4()), "quantity": 1, "price": "0.01"}]},
        {"items": [{"product_id": str(uuid.UUID(int=1)), "quantity": 1}] * 2},
        {"items": [{"product_id": str(uuid.uuid4()), "quantity": 1}], "total": "0"},
        {"items": [{"product_id": str(uuid.uuid4()), "quantity": 1}], "customer_name": ""},
    ],
)
async def test_invalid_orders_are_refused(
    raw_client: httpx.AsyncClient, api: str, customer: SignedIn, body: dict[str, object]
) -> None:
    response = await raw_client.post(f"{api}/orders/", json=body, headers=customer.headers)
    assert response.status_code == 422, response.text


async def test_orders_need_a_signed_in_user(raw_client: httpx.AsyncClient, api: str) -> None:
    body = order_body((str(uuid.uuid4()), 1))
    assert (await raw_client.post(f"{api}/orders/", json=body)).status_code == 401
    assert (await raw_client.get(f"{api}/orders/recent")).status_code == 401
    assert (await raw_client.get(f"{api}/orders/{uuid.uuid4()}")).status_code == 401


async def test_an_order_is_seen_by_its_owner_and_superusers_only(
    raw_client: httpx.AsyncClient, api: str, admin: SignedIn, make_account: MakeAccount
) -> None:
    owner, other = await make_account(), await make_account()
    product = await create_product(raw_client, api, admin)
    placed = await raw_client.post(
        f"{api}/orders/", json=order_body((product["id"], 1)), headers=owner.headers
    )
    url = f"{api}/orders/{placed.json()['id']}"
    assert (await raw_client.get(url, headers=owner.headers)).json() == placed.json()
    assert (await raw_client.get(url, headers=admin.headers)).json() == placed.json()
    hidden = await raw_client.get(url, headers=other.headers)
    assert hidden.status_code == 404
    assert hidden.json()["detail"] == f"Order {placed.json()['id']} not found"
    assert (
        await raw_client.get(f"{api}/orders/{uuid.uuid4()}", headers=admin.headers)
    ).status_code == 404


async def test_recent_orders_newest_first_within_the_window(
    raw_client: httpx.AsyncClient,
    api: str,
    stores: Stores,
    admin: SignedIn,
    make_account: MakeAccount,
) -> None:
    alice, bob = await make_account(), await make_account()
    product = await create_product(raw_client, api, admin, stock=100)

    async def place(who: SignedIn) -> str:
        response = await raw_client.post(
            f"{api}/orders/", json=order_body((product["id"], 1)), headers=who.headers
        )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    alice_orders = [await place(alice) for _ in range(3)]
    bob_orders = [await place(bob) for _ in range(2)]
    # An order of Alice's from 40 days ago: outside the default window, inside a 45-day one.
    old = Order(
        customer_id=alice.id,
        customer_name=alice.full_name,
        items=[
            OrderLine(
                product_id=uuid.UUID(product["id"]),
                name="x",
                quantity=1,
                unit_price=Decimal("1.00"),
            )
        ],
        total=Decimal("1.00"),
        status="placed",
        created_at=datetime.now(UTC).replace(microsecond=0) - timedelta(days=40),
    )
    await OrderRepository(stores.mongo).insert(old)

    mine = (await raw_client.get(f"{api}/orders/recent", headers=alice.headers)).json()
    assert [o["id"] for o in mine] == list(reversed(alice_orders))
    assert all(o["customer_id"] == str(alice.id) for o in mine)
    longer = await raw_client.get(
        f"{api}/orders/recent", params={"days": 45}, headers=alice.headers
    )
    assert [o["id"] for o in longer.json()] == [*reversed(alice_orders), str(old.id)]
    two = await raw_client.get(f"{api}/orders/recent", params={"limit": 2}, headers=alice.headers)
    assert [o["id"] for o in two.json()] == list(reversed(alice_orders))[:2]

    everyone = (await raw_client.get(f"{api}/orders/recent", headers=admin.headers)).json()
    ids = [o["id"] for o in everyone]
    assert set(alice_orders + bob_orders) <= set(ids)
    assert str(old.id) not in ids
    stamps = [datetime.fromisoformat(o["created_at"]) for o in everyone]
    assert stamps == sorted(stamps, reverse=True)
    assert len(everyone) <= 100
    for params in ({"days": 0}, {"days": 367}, {"limit": 0}, {"limit": 101}):
        response = await raw_client.get(
            f"{api}/orders/recent", params=params, headers=admin.headers
        )
        assert response.status_code == 422, params


def _count(app: FastAPI, command: str) -> int:
    """How many `command`s the app's MongoDB command monitor has seen."""
    stats = app.state.stores.monitors["mongodb"].stats()
    return sum(s["count"] for s in stats if s["statement"].split(" ")[0] == command)


async def test_which_atomicity_each_mode_uses(
    app: FastAPI,
    compensating_app: FastAPI,
    stores: Stores,
    api: str,
    admin: SignedIn,
    customer: SignedIn,
) -> None:
    """SecantusDB answers `hello` as a replica-set primary, so `auto` uses transactions: a refused
    order is aborted, nothing given back. With MONGODB_TRANSACTIONS=off the stock taken is given
    back by a compensating update instead."""
    assert await MongoTransactions(stores.mongo, "auto").supported()
    assert not await MongoTransactions(stores.mongo, "off").supported()
    for target, expect_abort in ((app, True), (compensating_app, False)):
        async with http_for(target) as http:
            plenty = await create_product(http, api, admin, stock=5)
            scarce = await create_product(http, api, admin, stock=0)
            aborts, updates = _count(target, "abortTransaction"), _count(target, "update")
            refused = await http.post(
                f"{api}/orders/",
                json=order_body((plenty["id"], 2), (scarce["id"], 1)),
                headers=customer.headers,
            )
            assert refused.status_code == 409
            assert _count(target, "abortTransaction") - aborts == int(expect_abort)
            assert _count(target, "update") - updates == int(not expect_abort)
            assert await stock_of(http, api, plenty["id"]) == 5
