"""Pagination shared by every list endpoint: `{items, next_cursor}` (`CursorPage`), or
`{items, total, limit, offset}` (`OffsetPage`) where the client chooses the order.

Keyset pages fetch one row more than asked (its presence says a next page exists) and put the
last row's sort key in the cursor. Cursors are opaque to clients: URL-safe base64 of that key (a
UUIDv7 for most lists, a paging state for Cassandra). A malformed cursor is a 422, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import struct
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Query

from quartet.core.errors import ValidationFailedError
from quartet.core.schemas import ResponseModel

T = TypeVar("T")
K = TypeVar("K")

MAX_CURSOR_CHARS = 4096


class CursorPage(ResponseModel, Generic[T]):
    """One page of a list in key order, and the cursor of the next one (null on the last)."""

    items: list[T]
    next_cursor: str | None = None


class OffsetPage(ResponseModel, Generic[T]):
    """For lists sorted by a field the client picks, where a UUIDv7 cursor cannot follow."""

    items: list[T]
    total: int
    limit: int
    offset: int


def encode_cursor(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> bytes:
    if len(cursor) > MAX_CURSOR_CHARS:
        raise ValidationFailedError("cursor is too long")
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError) as error:
        raise ValidationFailedError("cursor is malformed") from error


@dataclass(frozen=True)
class Keyset(Generic[K]):
    """How a list's sort key is written into a cursor and read back from one."""

    pack: Callable[[K], bytes]
    unpack: Callable[[bytes], K]
    """Raises ValueError, OverflowError or struct.error on bytes that are not a key."""

    def encode(self, key: K) -> str:
        return encode_cursor(self.pack(key))

    def decode(self, cursor: str) -> K:
        raw = decode_cursor(cursor)
        try:
            return self.unpack(raw)
        except (ValueError, OverflowError, struct.error) as error:
            raise ValidationFailedError("cursor is malformed") from error


UUID_KEYS: Keyset[uuid.UUID] = Keyset(lambda key: key.bytes, lambda raw: uuid.UUID(bytes=raw))
"""The key of lists in UUIDv7 (creation) order."""


async def keyset_page(
    fetch: Callable[[K | None, int], Awaitable[Sequence[T]]],
    *,
    limit: int,
    cursor: str | None,
    keys: Keyset[K],
    key_of: Callable[[T], K],
) -> CursorPage[T]:
    """`fetch(after, count)` reads up to `count` rows past the key `after` (None: from the
    start); asking `limit + 1` tells whether another page follows."""
    rows = await fetch(keys.decode(cursor) if cursor else None, limit + 1)
    if len(rows) <= limit:
        return CursorPage.model_construct(items=list(rows), next_cursor=None)
    items = list(rows[:limit])
    return CursorPage.model_construct(items=items, next_cursor=keys.encode(key_of(items[-1])))


Limit = Annotated[int, Query(ge=1, le=100, description="page size")]
Offset = Annotated[int, Query(ge=0, le=100_000, description="rows to skip")]
Cursor = Annotated[
    str | None, Query(max_length=MAX_CURSOR_CHARS, description="opaque cursor from next_cursor")
]
