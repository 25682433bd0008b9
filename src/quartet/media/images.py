"""Images are decoded before they are kept: a bomb (too many pixels) or a file Pillow cannot decode
is refused, and what is stored is a re-encoding that carries no metadata (EXIF with GPS, comments,
XMP, text chunks) beyond what displaying it needs. Decoding is CPU and memory heavy, so it runs in
a small dedicated thread pool."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from quartet.media.errors import ImageTooLargeError, InvalidImageError
from quartet.media.kinds import MediaType

# What displaying the picture needs; everything else in `info` (exif, comment, xmp, text chunks,
# dpi, ...) is dropped before saving, because Pillow's encoders copy some of it from `info`.
_KEPT_INFO = ("transparency", "duration", "loop", "background", "icc_profile")
_SAVE_OPTIONS: dict[str, dict[str, Any]] = {
    "JPEG": {"quality": 90},
    "WEBP": {"quality": 90},
    "PNG": {},
    "GIF": {},
}


@dataclass(frozen=True)
class ImageFacts:
    width: int
    height: int


def _clean(image: Image.Image) -> Image.Image:
    image.info = {key: image.info[key] for key in _KEPT_INFO if key in image.info}
    return image


def sanitise(path: Path, media_type: MediaType, max_pixels: int) -> ImageFacts:
    """Check and re-encode the image at `path` in place (blocking)."""
    expected = media_type.pillow_format
    assert expected is not None
    try:
        # Image.open reads the header only: the pixel count is checked before anything is
        # decoded. Pillow's own guard (DecompressionBombError) stays on behind this one.
        with Image.open(path, formats=[expected]) as image:
            width, height = image.size
            frames = getattr(image, "n_frames", 1)
            if width * height * frames > max_pixels:
                raise ImageTooLargeError(
                    f"The image has {width}x{height} pixels in {frames} frame(s); "
                    f"at most {max_pixels} pixels are accepted"
                )
            return _reencode(image, path, expected, frames)
    except Image.DecompressionBombError as error:
        raise ImageTooLargeError() from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as error:
        raise InvalidImageError() from error


def _reencode(image: Image.Image, path: Path, fmt: str, frames: int) -> ImageFacts:
    out = path.with_name(path.name + ".clean")
    try:
        if frames > 1:
            sequence = [_clean(frame.copy()) for frame in ImageSequence.Iterator(image)]
            first = sequence[0]
            first.save(
                out,
                format=fmt,
                save_all=True,
                append_images=sequence[1:],
                duration=[frame.info.get("duration", 100) for frame in sequence],
                loop=image.info.get("loop", 0),
            )
        else:
            first = _clean(ImageOps.exif_transpose(image))
            first.load()
            first.save(out, format=fmt, **_SAVE_OPTIONS[fmt])
        os.replace(out, path)
    finally:
        out.unlink(missing_ok=True)
    return ImageFacts(width=first.width, height=first.height)


class ImageProcessor:
    """Runs `sanitise` in its own bounded pool, so a burst of big images cannot take every
    thread (and all memory) at once."""

    def __init__(self, max_pixels: int, workers: int) -> None:
        self.max_pixels = max_pixels
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="media-image")

    async def sanitise(self, path: Path, media_type: MediaType) -> ImageFacts:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, sanitise, path, media_type, self.max_pixels)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
