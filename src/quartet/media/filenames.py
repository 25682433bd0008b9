"""Client-given file names are kept only as a hint for downloads: reduced to a safe base name."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from quartet.media.models import FILENAME_MAX_CHARS

_UNSAFE = re.compile(r"[\x00-\x1f\x7f\"\\/:*?<>|;]+")


def clean_filename(raw: str | None) -> str | None:
    """The last path segment, without control or shell/HTTP-special characters; None if empty."""
    if not raw:
        return None
    name = unicodedata.normalize("NFC", raw.replace("\\", "/").rsplit("/", 1)[-1])
    name = " ".join(_UNSAFE.sub("_", name).split()).strip(". ")
    return name[:FILENAME_MAX_CHARS] or None


def content_disposition(inline: bool, filename: str | None, fallback: str) -> str:
    """`inline` or `attachment`, with an ASCII filename and the RFC 5987 UTF-8 one."""
    name = filename or fallback
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_")
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
