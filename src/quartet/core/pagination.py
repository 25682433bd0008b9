"""Pagination shapes shared by every list endpoint: `{items, next_cursor}`, or
`{items, total, limit, offset}` where the client chooses the order.

Cursors are opaque to clients: URL-safe base64 of the last item's key (a UUIDv7 for PostgreSQL,
a paging state for Cassandra). A malformed cursor is a 422, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from quartet.core.errors import ValidationFailedError

T = TypeVar("T")

MAX_CURSOR_CHARS = 4096


class CursorPage(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class OffsetPage(BaseModel, Generic[T]):
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


def encode_uuid_cursor(value: uuid.UUID) -> str:
    return encode_cursor(value.bytes)


def decode_uuid_cursor(cursor: str) -> uuid.UUID:
    raw = decode_cursor(cursor)
    if len(raw) != 16:
        raise ValidationFailedError("cursor is malformed")
    return uuid.UUID(bytes=raw)


Limit = Annotated[int, Query(ge=1, le=100, description="page size")]
Offset = Annotated[int, Query(ge=0, le=100_000, description="rows to skip")]
Cursor = Annotated[
    str | None, Query(max_length=MAX_CURSOR_CHARS, description="opaque cursor from next_cursor")
]
