"""Every domain's SQLModel tables, imported in one place so Alembic's autogenerate and the test
fixtures see the whole schema. Add a domain's `models` module here when it gains tables."""

from quartet.stores.sql import metadata

__all__ = ["metadata"]
