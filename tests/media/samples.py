"""Small real files of every allowed kind, and hostile ones, made in memory."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def image(fmt: str, size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


def jpeg_with_gps() -> bytes:
    """A 40x30 JPEG with GPS coordinates, a camera model, a comment, and orientation 6 (shown
    rotated a quarter turn, so 30x40)."""
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[0x0110] = "Secret Camera"
    exif[GPS_IFD] = {1: "N", 2: (51.0, 30.0, 12.0), 3: "W", 4: (0.0, 7.0, 40.0)}
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "blue").save(
        out, format="JPEG", exif=exif.tobytes(), comment=b"home address"
    )
    return out.getvalue()


def png_with_text() -> bytes:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Location", "51.5N 0.1W")
    out = io.BytesIO()
    Image.new("RGBA", (16, 16), (0, 0, 255, 128)).save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def animated_gif(frames: int = 3) -> bytes:
    images = [Image.new("P", (20, 20), i * 40) for i in range(frames)]
    out = io.BytesIO()
    images[0].save(out, format="GIF", save_all=True, append_images=images[1:], duration=80, loop=0)
    return out.getvalue()


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4(size: int = 4096) -> bytes:
    ftyp = _box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2avc1mp41")
    return ftyp + _box(b"mdat", b"\x00" * max(0, size - len(ftyp) - 8))


def quicktime() -> bytes:
    return _box(b"ftyp", b"qt  " + struct.pack(">I", 0) + b"qt  ") + _box(b"mdat", b"\0" * 256)


def webm() -> bytes:
    ebml = bytes.fromhex("1A45DFA3 9F 4286 81 01 42F7 81 01 42F2 81 04 42F3 81 08 4282 84")
    return ebml + b"webm" + bytes.fromhex("4287 81 04 4285 81 02") + b"\0" * 256


def pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
        b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
        b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
    )


def elf() -> bytes:
    """The start of a Linux executable."""
    return b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + struct.pack("<HHI", 2, 62, 1) + b"\0" * 400


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A PNG whose header declares 10 gigapixels, behind a few hundred bytes of zeros."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 100_000))
        + _png_chunk(b"IEND", b"")
    )


ALLOWED = {
    "png": ("photo.png", image("PNG"), "image/png", "image"),
    "jpeg": ("photo.jpg", image("JPEG"), "image/jpeg", "image"),
    "gif": ("anim.gif", animated_gif(), "image/gif", "image"),
    "webp": ("photo.webp", image("WEBP"), "image/webp", "image"),
    "mp4": ("clip.mp4", mp4(), "video/mp4", "video"),
    "webm": ("clip.webm", webm(), "video/webm", "video"),
    "mov": ("clip.mov", quicktime(), "video/quicktime", "video"),
    "pdf": ("paper.pdf", pdf(), "application/pdf", "document"),
}
"""kind -> (file name, bytes, content type the app must sniff, media kind)."""
