"""MongoDB unreachable: the app still starts (indexes are applied when it is back), and every
shop endpoint answers 503 store_unavailable naming mongodb, never a 500."""

from __future__ import annotations

import time
import uuid

from tests.accounts import SignedIn
from tests.apps import dedicated_app
from tests.clients import http_for
from tests.responses import assert_store_unavailable

UNREACHABLE = {
    "MONGODB_URL": "mongodb://127.0.0.1:1/?directConnection=true",
    "MONGODB_TIMEOUT_MS": 300,
}


async def test_mongodb_down_is_a_503_naming_it(api: str, admin: SignedIn) -> None:
    started = time.perf_counter()
    async with dedicated_app(**UNREACHABLE) as app, http_for(app) as http:
        assert time.perf_counter() - started < 10
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
            assert_store_unavailable(response, "mongodb")
