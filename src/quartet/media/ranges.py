"""HTTP Range requests (RFC 9110 §14) for the content served by the app: one byte range, or the
whole body. Several ranges are answered with the whole body, which the RFC allows."""

from __future__ import annotations

import re

from quartet.media.errors import RangeNotSatisfiableError

_SINGLE = re.compile(r"^bytes=(\d*)-(\d*)$")


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive (first, last) byte to send, or None for the whole body."""
    if not header:
        return None
    match = _SINGLE.match(header.strip())
    if match is None:
        return None  # a multi-range or another unit: ignored, the whole body is sent
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise _unsatisfiable(size)
        return max(0, size - suffix), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        raise _unsatisfiable(size)
    return start, end


def _unsatisfiable(size: int) -> RangeNotSatisfiableError:
    return RangeNotSatisfiableError(headers={"Content-Range": f"bytes */{size}"})
