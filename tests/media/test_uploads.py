"""Uploads on both backends: every allowed kind, hostile files refused, the size cap cutting a
stream off, metadata stripped, and object and row written and removed together."""

from __future__ import annotations

import hashlib
import io
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from PIL import Image

from quartet.media.runtime import MediaRuntime
from quartet.media.storage import ObjectStorage
from quartet.stores.registry import Stores
from tests.accounts import SignedIn, sign_up, sign_up_superuser
from tests.conftest import TEST_DATABASE_URL
from tests.media import samples
from tests.media.conftest import MAX_BYTES, all_keys, content, stored_bytes
from tests.responses import without_request_id


async def upload(
    http: httpx.AsyncClient, api: str, who: SignedIn, name: str, data: bytes, claimed: str
) -> httpx.Response:
    return await http.post(
        f"{api}/upload/media", files={"file": (name, data, claimed)}, headers=who.headers
    )


@pytest.mark.parametrize("sample", sorted(samples.ALLOWED))
async def test_each_allowed_kind_is_stored_with_its_sniffed_type(
    http: httpx.AsyncClient, api: str, owner: SignedIn, storage: ObjectStorage, sample: str
) -> None:
    name, data, content_type, kind = samples.ALLOWED[sample]

    # The client's header is ignored: the bytes decide.
    response = await upload(http, api, owner, name, data, "application/octet-stream")

    assert response.status_code == 201, response.text
    record = response.json()
    assert (record["kind"], record["content_type"], record["filename"]) == (
        kind,
        content_type,
        name,
    )
    stored = await stored_bytes(storage, record["id"])
    assert stored is not None
    assert record["size"] == len(stored)
    assert record["sha256"] == hashlib.sha256(stored).hexdigest()
    if kind == "image":
        assert Image.open(io.BytesIO(stored)).size == (record["width"], record["height"])
    else:
        assert stored == data
        assert record["width"] is record["height"] is None
    served = await content(http, record)
    assert served.status_code == 200
    assert served.content == stored
    assert served.headers["content-type"] == content_type


async def test_an_upload_larger_than_the_app_body_limit_streams_through(
    http: httpx.AsyncClient, api: str, owner: SignedIn, storage: ObjectStorage
) -> None:
    data = samples.mp4(3 * 1024 * 1024)  # MAX_REQUEST_BODY_BYTES is 1 MiB; the media cap 4 MiB

    response = await upload(http, api, owner, "big.mp4", data, "video/mp4")

    assert response.status_code == 201, response.text
    assert await stored_bytes(storage, response.json()["id"]) == data


async def test_a_disguised_executable_is_refused(
    http: httpx.AsyncClient, api: str, owner: SignedIn, storage: ObjectStorage
) -> None:
    before = await all_keys(storage)

    response = await upload(http, api, owner, "cat.png", samples.elf(), "image/png")

    assert response.status_code == 415
    assert response.json()["error"] == "unsupported_media_type"
    assert await all_keys(storage) == before


@pytest.mark.parametrize(
    "data",
    [b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", b"MZ\x90\0" * 64],
    ids=["svg", "windows-exe"],
)
async def test_other_types_are_refused(
    http: httpx.AsyncClient, api: str, owner: SignedIn, data: bytes
) -> None:
    response = await upload(http, api, owner, "a.jpg", data, "image/jpeg")

    assert response.status_code == 415


async def test_a_decompression_bomb_is_refused_before_decoding(
    http: httpx.AsyncClient, api: str, owner: SignedIn, storage: ObjectStorage
) -> None:
    before = await all_keys(storage)

    response = await upload(http, api, owner, "bomb.png", samples.png_bomb(), "image/png")

    assert response.status_code == 422
    assert response.json()["error"] == "image_too_large"
    assert await all_keys(storage) == before


async def test_an_image_that_does_not_decode_is_refused(
    http: httpx.AsyncClient, api: str, owner: SignedIn
) -> None:
    truncated = samples.image("PNG", (300, 300))[:200]

    response = await upload(http, api, owner, "cut.png", truncated, "image/png")

    assert response.status_code == 422
    assert response.json()["error"] == "invalid_image"


async def test_exif_gps_and_comments_are_stripped_and_orientation_applied(
    http: httpx.AsyncClient, api: str, owner: SignedIn, storage: ObjectStorage
) -> None:
    original = samples.jpeg_with_gps()
    assert b"Secret Camera" in original
    assert b"home address" in original

    response = await upload(http, api, owner, "me.jpg", original, "image/jpeg")

    assert response.status_code == 201, response.text
    record = response.json()
    stored = await stored_bytes(storage, record["id"])
    assert stored is not None
    assert b"Exif" not in stored
    assert b"Secret Camera" not in stored
    assert b"home address" not in stored
    picture = Image.open(io.BytesIO(stored))
    assert not picture.getexif()
    assert picture.size == (30, 40) == (record["width"], record["height"])


async def test_png_text_chunks_are_stripped(
    http: httpx.AsyncClient, api: str, owner: SignedIn, storage: ObjectStorage
) -> None:
    response = await upload(http, api, owner, "a.png", samples.png_with_text(), "image/png")

    assert response.status_code == 201, response.text
    stored = await stored_bytes(storage, response.json()["id"])
    assert stored is not None
    assert b"Location" not in stored
    assert Image.open(io.BytesIO(stored)).mode == "RGBA"


async def _oversize_body(boundary: str, sent: list[int]) -> AsyncIterator[bytes]:
    yield (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    chunk = samples.mp4(256 * 1024)
    for _ in range(4 * MAX_BYTES // len(chunk)):
        sent.append(len(chunk))
        yield chunk
    yield f"\r\n--{boundary}--\r\n".encode()


async def test_an_oversize_stream_is_cut_off_at_the_cap(
    http: httpx.AsyncClient, api: str, owner: SignedIn, storage: ObjectStorage
) -> None:
    before = await all_keys(storage)
    sent: list[int] = []
    boundary = "quartetboundary"

    response = await http.post(
        f"{api}/upload/media",
        content=_oversize_body(boundary, sent),  # chunked: no Content-Length to refuse early
        headers={**owner.headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )

    assert response.status_code == 413
    assert response.json()["error"] == "media_too_large"
    # Read up to the cap and no further: far less than the 16 MiB the client had to send.
    assert MAX_BYTES <= sum(sent) <= MAX_BYTES + 2 * 256 * 1024
    assert await all_keys(storage) == before
    assert not list(storage.staging_dir.iterdir())


async def test_a_declared_oversize_body_is_refused_before_reading(
    http: httpx.AsyncClient, api: str, owner: SignedIn
) -> None:
    response = await upload(
        http, api, owner, "big.mp4", samples.mp4(MAX_BYTES + 128 * 1024), "video/mp4"
    )

    assert response.status_code == 413


@pytest.mark.parametrize(
    ("files", "error"),
    [
        ({"other": ("a.png", samples.image("PNG"), "image/png")}, "invalid_upload"),
        (
            [("file", ("a.png", samples.image("PNG"))), ("file", ("b.png", samples.image("PNG")))],
            "invalid_upload",
        ),
        ({"file": ("empty.png", b"", "image/png")}, "invalid_upload"),
    ],
    ids=["wrong-field", "two-files", "empty"],
)
async def test_malformed_uploads_are_refused(
    http: httpx.AsyncClient, api: str, owner: SignedIn, files: Any, error: str
) -> None:
    response = await http.post(f"{api}/upload/media", files=files, headers=owner.headers)

    assert response.status_code == 422, response.text
    assert response.json()["error"] == error


async def test_other_body_types_and_anonymous_callers_are_refused(
    http: httpx.AsyncClient, api: str, owner: SignedIn
) -> None:
    text = await http.post(
        f"{api}/upload/media",
        content=b"hello",
        headers={**owner.headers, "Content-Type": "text/plain"},
    )
    anonymous = await http.post(
        f"{api}/upload/media", files={"file": ("a.png", samples.image("PNG"), "image/png")}
    )

    assert text.status_code == 415
    assert anonymous.status_code == 401


async def test_the_owner_lists_reads_and_deletes_and_others_cannot(
    http: httpx.AsyncClient, api: str, owner: SignedIn, storage: ObjectStorage
) -> None:
    stranger = await sign_up(http, api)
    ids = []
    for index in range(3):
        response = await upload(http, api, owner, f"{index}.pdf", samples.pdf(), "")
        assert response.status_code == 201
        ids.append(response.json()["id"])

    first = await http.get(f"{api}/upload/media?limit=2", headers=owner.headers)
    second = await http.get(
        f"{api}/upload/media?limit=2&cursor={first.json()['next_cursor']}", headers=owner.headers
    )
    theirs = await http.get(f"{api}/upload/media", headers=stranger.headers)

    assert [m["id"] for m in first.json()["items"] + second.json()["items"]] == ids[::-1]
    assert second.json()["next_cursor"] is None
    assert theirs.json() == {"items": [], "next_cursor": None}
    for path in (f"/{ids[0]}", f"/{ids[0]}/content"):
        response = await http.get(f"{api}/upload/media{path}", headers=stranger.headers)
        assert response.status_code == 404, path
    refused = await http.delete(f"{api}/upload/media/{ids[0]}", headers=stranger.headers)
    assert refused.status_code == 404
    assert await stored_bytes(storage, ids[0]) is not None

    deleted = await http.delete(f"{api}/upload/media/{ids[0]}", headers=owner.headers)

    assert deleted.status_code == 204
    assert await stored_bytes(storage, ids[0]) is None
    gone = await http.get(f"{api}/upload/media/{ids[0]}", headers=owner.headers)
    assert gone.status_code == 404
    again = await http.delete(f"{api}/upload/media/{ids[0]}", headers=owner.headers)
    assert again.status_code == 404


async def test_a_moderator_deletes_anyones_media(
    http: httpx.AsyncClient, api: str, owner: SignedIn, storage: ObjectStorage, media_app: FastAPI
) -> None:
    moderator = await sign_up_superuser(http, api, media_app.state.stores)
    media_id = (await upload(http, api, owner, "a.pdf", samples.pdf(), "")).json()["id"]

    seen = await http.get(f"{api}/upload/media/{media_id}", headers=moderator.headers)
    deleted = await http.delete(f"{api}/upload/media/{media_id}", headers=moderator.headers)

    assert seen.status_code == 200
    assert deleted.status_code == 204
    assert await stored_bytes(storage, media_id) is None


def _failed_media_inserts(stores: Stores) -> int:
    stats = stores.monitors["postgres"].stats()
    return sum(s["errors"] for s in stats if s["statement"].startswith("INSERT INTO media"))


async def test_a_row_that_cannot_commit_leaves_no_object(
    http: httpx.AsyncClient, api: str, owner: SignedIn, storage: ObjectStorage, media_app: FastAPI
) -> None:
    """The object is written first; when its row then cannot be committed (here the owner's
    account was deleted meanwhile, so the owner foreign key fails), the object is deleted."""
    before = await all_keys(storage)
    failed_before = _failed_media_inserts(media_app.state.stores)
    connection = await asyncpg.connect(TEST_DATABASE_URL.replace("+asyncpg", ""))
    try:
        await connection.execute("DELETE FROM users WHERE id = $1", owner.id)
    finally:
        await connection.close()

    response = await upload(http, api, owner, "a.pdf", samples.pdf(), "")

    assert response.status_code == 401, response.text
    assert _failed_media_inserts(media_app.state.stores) == failed_before + 1
    assert await all_keys(storage) == before


async def test_the_sweep_removes_orphans_and_keeps_what_rows_name(
    http: httpx.AsyncClient, api: str, owner: SignedIn, storage: ObjectStorage, media_app: FastAPI
) -> None:
    kept = (await upload(http, api, owner, "a.pdf", samples.pdf(), "")).json()["id"]
    orphan = "00/" + "ab" * 15 + "00"
    staged = storage.staging_dir / "orphan"
    staged.parent.mkdir(parents=True, exist_ok=True)
    staged.write_bytes(samples.pdf())
    await storage.put(orphan, staged, content_type="application/pdf", disposition="attachment")
    staged.unlink(missing_ok=True)
    runtime: MediaRuntime = media_app.state.media
    stores: Stores = media_app.state.stores
    runtime.service.orphan_grace_s = 0
    try:
        removed = await runtime.service.sweep(stores.transactions)
    finally:
        runtime.service.orphan_grace_s = media_app.state.settings.MEDIA_ORPHAN_GRACE_SECONDS

    assert removed >= 1
    assert orphan not in await all_keys(storage)
    assert await stored_bytes(storage, kept) == samples.pdf()


async def test_a_malformed_id_or_cursor_is_a_422(
    http: httpx.AsyncClient, api: str, owner: SignedIn
) -> None:
    bad_id = await http.get(f"{api}/upload/media/not-a-uuid", headers=owner.headers)
    bad_cursor = await http.get(f"{api}/upload/media?cursor=%%%", headers=owner.headers)

    assert bad_id.status_code == 422
    assert without_request_id(bad_cursor.json())["error"] == "validation_error"
