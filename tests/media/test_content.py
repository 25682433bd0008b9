"""Reading content on both backends: a signed, expiring link (the app's own on local disk, a
presigned URL on S3), and on local disk the headers a browser needs: type, disposition, nosniff,
ETag and byte ranges."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from quartet.media.runtime import MediaRuntime
from tests.accounts import SignedIn, sign_up
from tests.media import samples
from tests.media.conftest import content


async def _uploaded(
    http: httpx.AsyncClient, api: str, owner: SignedIn, name: str, data: bytes
) -> dict[str, Any]:
    response = await http.post(
        f"{api}/upload/media", files={"file": (name, data)}, headers=owner.headers
    )
    assert response.status_code == 201, response.text
    record: dict[str, Any] = response.json()
    return record


def _backend(media_app: FastAPI) -> str:
    runtime: MediaRuntime = media_app.state.media
    return runtime.storage.backend


async def test_the_signed_link_serves_the_content_with_safe_headers(
    http: httpx.AsyncClient, api: str, owner: SignedIn
) -> None:
    record = await _uploaded(http, api, owner, "résumé.pdf", samples.pdf())

    served = await content(http, record)

    assert served.status_code == 200
    assert served.content == samples.pdf()
    assert served.headers["content-type"] == "application/pdf"
    assert served.headers["content-disposition"].startswith('attachment; filename="r_sum_.pdf"')
    assert "filename*=UTF-8''r%C3%A9sum%C3%A9.pdf" in served.headers["content-disposition"]


async def _follow(
    http: httpx.AsyncClient, response: httpx.Response, **headers: str
) -> httpx.Response:
    """On S3 the content route redirects to a presigned URL: read it there, as a browser would."""
    if response.status_code != 307:
        return response
    async with httpx.AsyncClient() as outside:
        return await outside.get(response.headers["location"], headers=headers)


async def test_content_answers_byte_ranges(
    http: httpx.AsyncClient, api: str, owner: SignedIn
) -> None:
    data = samples.mp4(10_000)
    record = await _uploaded(http, api, owner, "clip.mp4", data)
    path = f"{api}/upload/media/{record['id']}/content"

    async def ranged(spec: str) -> httpx.Response:
        headers = {**owner.headers, "Range": spec}
        return await _follow(http, await http.get(path, headers=headers), Range=spec)

    part, tail, open_ended, beyond = [
        await ranged(spec) for spec in ("bytes=100-199", "bytes=-10", "bytes=9990-", "bytes=20000-")
    ]

    assert (part.status_code, part.content) == (206, data[100:200])
    assert part.headers["content-range"] == f"bytes 100-199/{len(data)}"
    assert (tail.status_code, tail.content) == (206, data[-10:])
    assert (open_ended.status_code, open_ended.content) == (206, data[9990:])
    assert beyond.status_code == 416


async def test_local_content_has_etag_and_nosniff_and_s3_redirects_to_a_presigned_url(
    http: httpx.AsyncClient, api: str, owner: SignedIn, media_app: FastAPI
) -> None:
    data = samples.mp4(10_000)
    record = await _uploaded(http, api, owner, "clip.mp4", data)
    path = f"{api}/upload/media/{record['id']}/content"

    response = await http.get(path, headers=owner.headers)

    if _backend(media_app) == "s3":
        assert response.status_code == 307
        assert response.headers["cache-control"] == "no-store"
        location = response.headers["location"]
        assert "X-Amz-Signature=" in location
        async with httpx.AsyncClient() as outside:
            unsigned = await outside.get(location.split("?", 1)[0])
        assert unsigned.status_code == 403
        response = await _follow(http, response)
        assert (response.status_code, response.content) == (200, data)
        assert response.headers["content-type"] == "video/mp4"
        assert response.headers["content-disposition"].startswith('inline; filename="clip.mp4"')
        return
    etag = f'"{record["sha256"]}"'
    cached = await http.get(path, headers={**owner.headers, "If-None-Match": etag})
    stale_range = await http.get(
        path, headers={**owner.headers, "Range": "bytes=0-9", "If-Range": '"other"'}
    )
    assert (response.status_code, response.content) == (200, data)
    assert response.headers["content-type"] == "video/mp4"
    assert response.headers["etag"] == etag
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-disposition"].startswith('inline; filename="clip.mp4"')
    assert response.headers["content-length"] == str(len(data))
    assert (cached.status_code, cached.content) == (304, b"")
    assert (stale_range.status_code, stale_range.content) == (200, data)


async def test_the_owner_reads_content_with_a_token_and_others_need_the_link(
    http: httpx.AsyncClient, api: str, owner: SignedIn
) -> None:
    other = await sign_up(http, api)  # an account of the media app's database, like `owner`
    record = await _uploaded(http, api, owner, "a.pdf", samples.pdf())
    path = f"{api}/upload/media/{record['id']}/content"

    with_token = await http.get(path, headers=owner.headers)
    anonymous = await http.get(path)
    stranger = await http.get(path, headers=other.headers)

    assert with_token.status_code in (200, 307)
    assert anonymous.status_code == 401
    assert stranger.status_code == 404, stranger.text


@pytest.mark.parametrize(
    "tamper",
    ["expired", "wrong-signature", "other-media", "half"],
)
async def test_a_bad_or_expired_link_is_refused(
    http: httpx.AsyncClient, api: str, owner: SignedIn, media_app: FastAPI, tamper: str
) -> None:
    first = await _uploaded(http, api, owner, "a.pdf", samples.pdf())
    second = await _uploaded(http, api, owner, "b.pdf", samples.pdf())
    runtime: MediaRuntime = media_app.state.media
    signer = runtime.service.signer
    now = time.time()
    expires, signature = signer.sign(uuid.UUID(first["id"]), now)
    past, past_signature = signer.sign(uuid.UUID(first["id"]), now - signer.ttl_s - 1)
    query = {
        "expired": f"expires={past}&signature={past_signature}",
        "wrong-signature": f"expires={expires}&signature={'0' * 64}",
        "other-media": f"expires={expires}&signature={signature}",
        "half": f"expires={expires}",
    }[tamper]
    target = second["id"] if tamper == "other-media" else first["id"]

    response = await http.get(f"{api}/upload/media/{target}/content?{query}")

    assert response.status_code == 403, response.text
    assert response.json()["error"] == "invalid_link"
