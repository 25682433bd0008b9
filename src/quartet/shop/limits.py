"""The shop's size limits: the API's input models and MongoDB's collection validators enforce
the same ones."""

from __future__ import annotations

from decimal import Decimal

NAME_MAX = 200
DESCRIPTION_MAX = 2000
CATEGORY_MAX = 64
CUSTOMER_NAME_MAX = 200
MAX_PRICE = Decimal("1000000000")
MAX_STOCK = 1_000_000_000
MAX_QUANTITY = 1000
MAX_ORDER_ITEMS = 50
