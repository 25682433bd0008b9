"""Cursors for reads that walk several day partitions newest first.

A page may end inside a partition (the driver's paging state says where) or between two, so the
cursor records the window, the day partition it stopped in and that paging state. It is signed:
the paging state goes back to Cassandra as is, and a forged one makes the server fail the
connection (a protocol error), so only cursors this app issued for the same query are accepted.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import dataclass
from datetime import UTC, date, datetime

from quartet.core.errors import ValidationFailedError
from quartet.core.pagination import decode_cursor, encode_cursor

_VERSION = 1
_HEADER = struct.Struct(">BqqI")  # version, since ms, until ms, day ordinal
_MAC_BYTES = 16


@dataclass(frozen=True)
class WindowCursor:
    since: datetime
    until: datetime
    day: date
    paging_state: bytes | None


def _millis(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


def _moment(millis: int) -> datetime:
    return datetime.fromtimestamp(millis / 1000, UTC)


class CursorCodec:
    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"quartet.events.cursor\x00" + secret.encode()).digest()

    def _mac(self, scope: str, payload: bytes) -> bytes:
        message = scope.encode() + b"\x00" + payload
        return hmac.new(self._key, message, hashlib.sha256).digest()[:_MAC_BYTES]

    def encode(self, scope: str, cursor: WindowCursor) -> str:
        """`scope` names the query (endpoint and filters) the cursor may be used with."""
        payload = _HEADER.pack(
            _VERSION, _millis(cursor.since), _millis(cursor.until), cursor.day.toordinal()
        ) + (cursor.paging_state or b"")
        return encode_cursor(payload + self._mac(scope, payload))

    def decode(self, scope: str, token: str) -> WindowCursor:
        raw = decode_cursor(token)
        payload, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
        if len(payload) < _HEADER.size or not hmac.compare_digest(mac, self._mac(scope, payload)):
            raise ValidationFailedError("cursor is malformed or belongs to another query")
        version, since, until, day = _HEADER.unpack_from(payload)
        if version != _VERSION:
            raise ValidationFailedError("cursor is from an older version; start again")
        state = payload[_HEADER.size :]
        return WindowCursor(_moment(since), _moment(until), date.fromordinal(day), state or None)
