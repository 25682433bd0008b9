"""Shop conflicts, each with its own code so a client can tell them apart."""

from __future__ import annotations

from quartet.core.errors import ConflictError


class OutOfStockError(ConflictError):
    """Not enough stock for an order item, or a stock change that would go below zero."""

    code = "out_of_stock"
    message = "Not enough stock"


class ProductUnavailableError(ConflictError):
    code = "product_unavailable"
    message = "Product is not available for sale"
