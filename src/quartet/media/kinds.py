"""What may be stored: an allow-list per kind, decided by sniffing the bytes (puremagic), never by
the client's Content-Type or the file name."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import puremagic

from quartet.media.errors import UnsupportedMediaError

Kind = Literal["image", "video", "document"]


@dataclass(frozen=True)
class MediaType:
    content_type: str
    kind: Kind
    extension: str
    pillow_format: str | None = None  # images are decoded and re-encoded in this format

    @property
    def inline(self) -> bool:
        """Shown in the browser (images, video) or downloaded (documents)."""
        return self.kind != "document"


ALLOWED: dict[str, MediaType] = {
    t.content_type: t
    for t in (
        MediaType("image/jpeg", "image", "jpg", "JPEG"),
        MediaType("image/png", "image", "png", "PNG"),
        MediaType("image/gif", "image", "gif", "GIF"),
        MediaType("image/webp", "image", "webp", "WEBP"),
        MediaType("video/mp4", "video", "mp4"),
        MediaType("video/webm", "video", "webm"),
        MediaType("video/quicktime", "video", "mov"),
        MediaType("application/pdf", "document", "pdf"),
    )
}


def sniff(path: Path) -> MediaType:
    """The allowed type the file's bytes are, or UnsupportedMediaError. Blocking (reads the
    file's head and tail): run it in a worker thread."""
    try:
        matches = puremagic.magic_file(path)
    except (puremagic.PureError, ValueError) as error:
        raise UnsupportedMediaError() from error
    # puremagic ranks its matches by confidence: the best one decides, so a file whose bytes
    # look more like something else (an executable, HTML, SVG...) is refused.
    best = matches[0].mime_type if matches else ""
    media_type = ALLOWED.get(best)
    if media_type is None:
        raise UnsupportedMediaError()
    return media_type
