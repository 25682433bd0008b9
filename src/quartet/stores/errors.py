"""Store-level errors: what the stores layer raises instead of an HTTP-flavoured `AppError`.

A repository says what went wrong in the store's terms; the app's error handlers render it
(`quartet.stores.registry.error_translations`, installed by `quartet.main`), so no store
module decides a status code and `quartet.core` never has to know a store.
"""

from __future__ import annotations


class StoreError(Exception):
    """Base of every error the stores layer raises on purpose."""


class RecordNotFoundError(StoreError):
    """The record asked for by its key is not there (rendered as 404 `not_found`)."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class MissingReferenceError(StoreError):
    """A foreign key failed: the row it names (in `table`) was deleted meanwhile. What that
    means to the client is the service's to say (a deleted caller, a deleted post)."""

    def __init__(self, table: str) -> None:
        self.table = table
        super().__init__(f"the referenced {table} row is gone")


class StoreUnreachableError(StoreError):
    """A store cannot be reached or did not answer in time (rendered as 503
    `store_unavailable`, naming the store)."""

    def __init__(self, store: str) -> None:
        self.store = store
        super().__init__(f"{store} is unavailable")
