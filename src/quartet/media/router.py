"""`/upload/media`: upload (multipart or by URL), list, read, serve and delete media."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, cast

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, StreamingResponse
from pydantic import ValidationError

from quartet.auth.dependencies import AUTHENTICATION_ERRORS, CurrentUser, OptionalUser
from quartet.core.errors import (
    PayloadTooLargeError,
    StoreUnavailableError,
    ValidationFailedError,
    responses,
)
from quartet.core.pagination import Cursor, CursorPage, Limit
from quartet.media.dependencies import (
    MediaServiceDep,
    Moderator,
    OptionalModerator,
    UrlFetcherDep,
)
from quartet.media.errors import (
    FetchFailedError,
    ImageTooLargeError,
    InvalidImageError,
    InvalidLinkError,
    InvalidUploadError,
    MediaNotFoundError,
    MediaTooLargeError,
    RangeNotSatisfiableError,
    UnsupportedMediaError,
    UrlNotAllowedError,
)
from quartet.media.kinds import Kind
from quartet.media.models import Media
from quartet.media.ranges import byte_range
from quartet.media.schemas import JSON_BODY_MAX_BYTES, MediaOut, MediaUrlIn
from quartet.media.service import LocalContent, MediaService
from quartet.stores.dependencies import DbSession, TransactionRunnerDep

router = APIRouter(prefix="/upload", tags=["media"], responses=responses(*AUTHENTICATION_ERRORS))

_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "additionalProperties": False,
                }
            },
            "application/json": {"schema": MediaUrlIn.model_json_schema()},
        },
    }
}
_CONTENT_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"description": "The content", "content": {"application/octet-stream": {}}},
    206: {"description": "The requested byte range"},
    304: {"description": "Unchanged since the ETag in If-None-Match"},
    307: {"description": "S3 backend: redirect to a presigned URL"},
}


async def _media_out(service: MediaService, request: Request, media: Media) -> MediaOut:
    content_url = str(request.url_for("media_content", file_id=str(media.id)))
    link = await service.link(media, content_url)
    return MediaOut(
        id=media.id,
        kind=cast(Kind, media.kind),  # the table's check constraint holds it to the three
        content_type=media.content_type,
        size=media.size,
        sha256=media.sha256,
        width=media.width,
        height=media.height,
        filename=media.filename,
        source_url=media.source_url,
        created_at=media.created_at,
        url=link.url,
        url_expires_at=link.expires_at,
    )


async def _url_body(request: Request) -> MediaUrlIn:
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > JSON_BODY_MAX_BYTES:
            raise PayloadTooLargeError(f"A JSON body is at most {JSON_BODY_MAX_BYTES} bytes")
    try:
        return MediaUrlIn.model_validate_json(bytes(raw))
    except ValidationError as error:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in error.errors(include_url=False)]
        ) from error


@router.post(
    "/media",
    status_code=status.HTTP_201_CREATED,
    responses=responses(
        MediaTooLargeError,
        UnsupportedMediaError,
        InvalidUploadError,
        InvalidImageError,
        ImageTooLargeError,
        UrlNotAllowedError,
        FetchFailedError,
    ),
    openapi_extra=_UPLOAD_BODY,
    summary="Upload a file (multipart part `file`) or fetch one by URL (JSON {url})",
)
async def upload_media(
    request: Request,
    user: CurrentUser,
    service: MediaServiceDep,
    fetcher: UrlFetcherDep,
    tx: TransactionRunnerDep,
) -> MediaOut:
    """The bytes are checked for an allowed kind whatever the name claims. A URL is fetched only
    if it and its redirects resolve to public addresses."""
    content_type = request.headers.get("content-type", "")
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "multipart/form-data":
        media = await service.upload(tx, user, request.stream(), content_type)
    elif kind == "application/json":
        body = await _url_body(request)
        media = await service.upload_from_url(tx, user, body.url, fetcher)
    else:
        raise UnsupportedMediaError(
            "Send multipart/form-data with a part named `file`, or application/json with a `url`"
        )
    return await _media_out(service, request, media)


@router.get(
    "/media", responses=responses(ValidationFailedError), summary="The caller's media, newest first"
)
async def list_media(
    request: Request,
    user: CurrentUser,
    service: MediaServiceDep,
    db: DbSession,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> CursorPage[MediaOut]:
    """Keyset-paginated with an opaque cursor."""
    page = await service.page(db, user, limit=limit, cursor=cursor)
    items = [await _media_out(service, request, media) for media in page.items]
    return CursorPage(items=items, next_cursor=page.next_cursor)


@router.get(
    "/media/{file_id}",
    responses=responses(MediaNotFoundError),
    summary="One media record (its owner, or media.moderate)",
)
async def get_media(
    file_id: uuid.UUID,
    request: Request,
    user: CurrentUser,
    moderator: Moderator,
    service: MediaServiceDep,
    db: DbSession,
) -> MediaOut:
    """The record with its kind, size and dimensions; anyone else's is a 404."""
    return await _media_out(service, request, await service.get(db, file_id, user, moderator))


@router.get(
    "/media/{file_id}/content",
    name="media_content",
    response_class=Response,
    responses={
        **_CONTENT_ANSWERS,
        **responses(
            InvalidLinkError,
            MediaNotFoundError,
            RangeNotSatisfiableError,
            StoreUnavailableError,
        ),
    },
    summary="The content: a signed link (`expires` + `signature`) or the owner's token",
)
async def media_content(
    file_id: uuid.UUID,
    request: Request,
    caller: OptionalUser,
    moderator: OptionalModerator,
    service: MediaServiceDep,
    db: DbSession,
    expires: Annotated[int | None, Query(ge=0, le=2**40)] = None,
    signature: Annotated[str | None, Query(pattern=r"^[0-9a-f]{64}$")] = None,
) -> Response:
    """Streams the bytes (Range and If-None-Match honoured), or redirects to a presigned URL on the
    S3 backend."""
    if (expires is None) != (signature is None):
        raise InvalidLinkError()
    signed = (expires, signature) if expires is not None and signature is not None else None
    found = await service.content(db, file_id, caller, moderator, signed)
    if isinstance(found, str):
        return RedirectResponse(found, status_code=307, headers={"Cache-Control": "no-store"})
    return _stream(service, request, found)


def _stream(service: MediaService, request: Request, content: LocalContent) -> Response:
    """The object with its stored type, a strong ETag (the SHA-256), and Range support."""
    size = content.stored.size
    etag = f'"{content.media.sha256}"'
    headers = {
        "ETag": etag,
        "Accept-Ranges": "bytes",
        "Content-Disposition": content.disposition,
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-cache",
    }
    if_none_match = request.headers.get("if-none-match", "")
    if etag in {tag.strip() for tag in if_none_match.split(",")} or if_none_match.strip() == "*":
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    range_header = request.headers.get("range")
    if_range = request.headers.get("if-range")
    span = byte_range(range_header if if_range in (None, etag) else None, size)
    first, last = span if span is not None else (0, size - 1)
    if span is not None:
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    headers["Content-Length"] = str(last - first + 1)
    return StreamingResponse(
        service.read(content, first, last),
        status_code=status.HTTP_206_PARTIAL_CONTENT if span else status.HTTP_200_OK,
        media_type=content.media.content_type,
        headers=headers,
    )


@router.delete(
    "/media/{file_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(MediaNotFoundError),
    summary="Delete the record and its object (its owner, or media.moderate)",
)
async def delete_media(
    file_id: uuid.UUID,
    user: CurrentUser,
    moderator: Moderator,
    service: MediaServiceDep,
    tx: TransactionRunnerDep,
) -> None:
    """Deletes the record and the stored object."""
    await service.delete(tx, file_id, user, moderator)
