"""Permissions the shop routes check."""

from __future__ import annotations

from quartet.core.codenames import Permission, declare

SHOP_PRODUCTS_WRITE = Permission(
    "shop.products_write", "Create, edit and delete products and change their stock"
)
SHOP_ORDERS_READ_ANY = Permission("shop.orders_read_any", "Read every customer's orders")
SHOP_STATS_READ = Permission("shop.stats_read", "Read sales and customer statistics")

PERMISSIONS = declare(SHOP_PRODUCTS_WRITE, SHOP_ORDERS_READ_ANY, SHOP_STATS_READ)
