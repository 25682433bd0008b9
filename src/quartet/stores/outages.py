"""What each store module tells the error handlers (`quartet.stores.registry`): its driver's
`UNAVAILABLE_ERRORS`, the exception types that may mean the store cannot be reached or answer
in time, and `translate_error`, which turns one of them into a `StoreUnreachableError` (and
re-raises one that turns out to be some other failure)."""

from __future__ import annotations

from collections.abc import Callable

from quartet.stores.errors import StoreUnreachableError


def always_unreachable(store: str) -> Callable[[Exception], StoreUnreachableError]:
    """The `translate_error` of a store whose every `UNAVAILABLE_ERRORS` type is an outage."""

    def translate_error(_: Exception) -> StoreUnreachableError:
        return StoreUnreachableError(store)

    return translate_error
