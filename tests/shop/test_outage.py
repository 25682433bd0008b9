"""MongoDB unreachable: the app still starts (indexes are applied when it is back), and every
shop endpoint answers 503 store_unavailable naming mongodb, never a 500."""

from __future__ import annotations

import time
import uuid

import httpx

from quartet.main import create_app
from tests.conftest import make_settings
from tests.shop.conftest import Account

UNREACHABLE = {
    "MONGODB_URL": "mongodb://127.0.0.1:1/?directConnection=true",
    "MONGODB_TIMEOUT_MS": 300,
}


async def test_mongodb_down_is_a_503_naming_it(api: str, admin: Account) -> None:
    app = create_app(make_settings(**UNREACHABLE))
    started = time.perf_counter()
    async with app.router.lifespan_context(app):
        assert time.perf_counter() - started < 10
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            some_id = uuid.uuid4()
            calls = [
                ("GET", f"{api}/products/", None),
                ("GET", f"{api}/products/{some_id}", None),
                ("POST", f"{api}/products/", {"name": "n", "category": "c", "price": "1"}),
                (
                    "POST",
                    f"{api}/orders/",
                    {"items": [{"product_id": str(some_id), "quantity": 1}], "customer_name": "x"},
                ),
                ("GET", f"{api}/orders/recent", None),
                ("GET", f"{api}/stats/customer/x", None),
            ]
            for method, url, body in calls:
                response = await http.request(method, url, json=body, headers=admin.headers)
                assert response.status_code == 503, (method, url, response.text)
                error = response.json()
                assert error["error"] == "store_unavailable"
                assert "mongodb" in error["detail"]
                assert response.headers["retry-after"] == "5"
