"""Permissions the shop routes check."""

SHOP_PRODUCTS_WRITE = "shop.products_write"
SHOP_ORDERS_READ_ANY = "shop.orders_read_any"
SHOP_STATS_READ = "shop.stats_read"

PERMISSIONS: tuple[tuple[str, str], ...] = (
    (SHOP_PRODUCTS_WRITE, "Create, edit and delete products and change their stock"),
    (SHOP_ORDERS_READ_ANY, "Read every customer's orders"),
    (SHOP_STATS_READ, "Read sales and customer statistics"),
)
