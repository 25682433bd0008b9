"""A streaming reader for `multipart/form-data` uploads: the body is parsed as it arrives and the
one part named `file` goes straight to a staged file, so memory holds one network chunk at a
time whatever the upload's size (Starlette's form parsing would spool the whole body first)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from quartet.media.errors import InvalidUploadError
from quartet.media.staging import StagedFile

if TYPE_CHECKING:  # declared for type checkers only
    from python_multipart.multipart import MultipartCallbacks

FIELD_NAME = "file"


@dataclass
class _PartState:
    """What the parser's callbacks saw; data is drained after every chunk fed to it."""

    header_field: bytearray = field(default_factory=bytearray)
    header_value: bytearray = field(default_factory=bytearray)
    disposition: bytes = b""
    in_file: bool = False
    files: int = 0
    filename: str | None = None
    ended: bool = False
    pending: list[bytes] = field(default_factory=list)

    def begin(self) -> None:
        self.disposition = b""
        self.in_file = False

    def header_end(self) -> None:
        if bytes(self.header_field).lower() == b"content-disposition":
            self.disposition = bytes(self.header_value)
        self.header_field.clear()
        self.header_value.clear()

    def headers_done(self) -> None:
        kind, options = parse_options_header(self.disposition)
        name = options.get(b"name", b"").decode("utf-8", "replace")
        if kind != b"form-data" or name != FIELD_NAME:
            raise InvalidUploadError(f"Unexpected form part {name!r}: send one part named `file`")
        self.files += 1
        if self.files > 1:
            raise InvalidUploadError("Send exactly one part named `file`")
        raw_name = options.get(b"filename")
        self.filename = raw_name.decode("utf-8", "replace") if raw_name is not None else None
        self.in_file = True

    def data(self, data: bytes, start: int, end: int) -> None:
        if self.in_file:
            self.pending.append(data[start:end])

    def callbacks(self) -> MultipartCallbacks:
        def end() -> None:
            self.ended = True

        return {
            "on_part_begin": self.begin,
            "on_header_field": lambda d, s, e: self.header_field.extend(d[s:e]),
            "on_header_value": lambda d, s, e: self.header_value.extend(d[s:e]),
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_done,
            "on_part_data": self.data,
            "on_end": end,
        }


def _boundary(content_type: str) -> bytes:
    kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary", b"")
    if kind != b"multipart/form-data" or not 1 <= len(boundary) <= 70:
        raise InvalidUploadError("Expected multipart/form-data with a boundary")
    return boundary


async def read_file_part(
    body: AsyncIterator[bytes], content_type: str, sink: StagedFile
) -> str | None:
    """Stream the part named `file` into `sink` (which enforces the size cap); returns the file
    name the client gave, if any."""
    state = _PartState()
    parser = MultipartParser(_boundary(content_type), state.callbacks())
    async for chunk in body:
        try:
            parser.write(chunk)
        except MultipartParseError as error:
            raise InvalidUploadError("The multipart body is malformed") from error
        for data in state.pending:
            await sink.write(data)
        state.pending.clear()
        if state.ended:
            break
    if not state.ended or state.files != 1:
        raise InvalidUploadError("Send one complete part named `file`")
    return state.filename
