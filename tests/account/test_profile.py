"""/settings: the profile, its validation, visibility to others, and the settings endpoints."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from quartet.audit.models import AuditLog
from quartet.core.clock import utcnow
from quartet.events.repository import EventRepository
from quartet.stores.registry import Stores
from tests.accounts import SignedIn, unique
from tests.media import samples
from tests.rbac.helpers import member_of


async def test_own_profile_and_settings(
    client: httpx.AsyncClient, api: str, user: SignedIn
) -> None:
    profile = await client.get(f"{api}/settings/profile", headers=user.headers)
    assert profile.status_code == 200, profile.text
    body = profile.json()
    assert (body["id"], body["profile_visibility"], body["theme"]) == (
        str(user.id),
        "public",
        "system",
    )
    settings = (await client.get(f"{api}/settings", headers=user.headers)).json()
    assert settings["has_password"] is True
    assert "en" in settings["supported_languages"]
    assert (await client.get(f"{api}/settings/profile")).status_code == 401


async def test_update_profile_and_the_cached_copy_follows(
    client: httpx.AsyncClient, api: str, user: SignedIn
) -> None:
    await client.get(f"{api}/settings/profile", headers=user.headers)  # cached now
    name = unique("n")
    updated = await client.put(
        f"{api}/settings/profile",
        json={"full_name": "Ada L", "username": name, "bio": "hello", "country": "fr"},
        headers=user.headers,
    )
    assert updated.status_code == 200, updated.text
    assert (updated.json()["country"], updated.json()["username"]) == ("FR", name)
    again = (await client.get(f"{api}/settings/profile", headers=user.headers)).json()
    assert (again["bio"], again["full_name"]) == ("hello", "Ada L")
    me = (await client.get(f"{api}/auth/me", headers=user.headers)).json()
    assert me["username"] == name
    cleared = await client.put(f"{api}/settings/profile", json={"bio": None}, headers=user.headers)
    assert cleared.json()["bio"] is None


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/settings/profile", {"country": "XX"}),
        ("/settings/profile", {"country": "FRA"}),
        ("/settings/profile", {"bio": "x" * 501}),
        ("/settings/profile", {"username": "a b"}),
        ("/settings/profile", {"username": "ab"}),
        ("/settings/profile", {"full_name": "x" * 201}),
        ("/settings/profile", {}),
        ("/settings/profile", {"is_superuser": True}),
        ("/settings/update-timezone", {"timezone": "Mars/Olympus"}),
        ("/settings/update-timezone", {"timezone": "../etc/passwd"}),
        ("/settings/profile-language", {"language": "not a tag"}),
        ("/settings/update-theme", {"theme": "neon"}),
        ("/settings/profile-accessibility", {"profile_visibility": "secret"}),
        ("/settings/profile-accessibility", {}),
        ("/settings/profile-picture", {"media_id": "nope"}),
    ],
)
async def test_invalid_settings_are_422(
    client: httpx.AsyncClient, api: str, user: SignedIn, path: str, body: dict[str, object]
) -> None:
    method = client.put if path == "/settings/profile" else client.post
    response = await method(f"{api}{path}", json=body, headers=user.headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "validation_error"


async def test_unsupported_language_is_refused_and_a_supported_one_kept(
    client: httpx.AsyncClient, api: str, user: SignedIn
) -> None:
    refused = await client.post(
        f"{api}/settings/profile-language", json={"language": "tlh"}, headers=user.headers
    )
    assert (refused.status_code, refused.json()["error"]) == (422, "unsupported_language")
    kept = await client.post(
        f"{api}/settings/profile-language", json={"language": "PT-br"}, headers=user.headers
    )
    assert kept.status_code == 200, kept.text
    assert kept.json()["language"] == "pt-BR"


async def test_theme_and_timezone(client: httpx.AsyncClient, api: str, user: SignedIn) -> None:
    theme = await client.post(
        f"{api}/settings/update-theme", json={"theme": "dark"}, headers=user.headers
    )
    assert theme.json()["theme"] == "dark"
    zone = await client.post(
        f"{api}/settings/update-timezone", json={"timezone": "Asia/Tokyo"}, headers=user.headers
    )
    assert zone.json()["timezone"] == "Asia/Tokyo"
    assert (await client.get(f"{api}/settings/profile", headers=user.headers)).json()[
        "theme"
    ] == "dark"


async def test_duplicate_username_is_409(
    client: httpx.AsyncClient, api: str, user: SignedIn, other: SignedIn
) -> None:
    taken = await client.put(
        f"{api}/settings/profile",
        json={"username": str(other.username).upper()},
        headers=user.headers,
    )
    assert (taken.status_code, taken.json()["error"]) == (409, "identifier_taken")
    same = await client.put(
        f"{api}/settings/profile", json={"username": user.username}, headers=user.headers
    )
    assert same.status_code == 200


async def test_private_profile_is_404_to_others_but_not_to_support(
    client: httpx.AsyncClient, api: str, stores: Stores, user: SignedIn, other: SignedIn
) -> None:
    url = f"{api}/settings/profile/{user.id}"
    public = (await client.get(url, headers=other.headers)).json()
    assert (public["username"], public["email"], public["phone"]) == (user.username, None, None)
    shown = await client.post(
        f"{api}/settings/profile-accessibility",
        json={"show_email": True},
        headers=user.headers,
    )
    assert shown.json()["show_email"] is True
    assert (await client.get(url, headers=other.headers)).json()["email"] == user.email
    private = await client.post(
        f"{api}/settings/profile-accessibility",
        json={"profile_visibility": "private"},
        headers=user.headers,
    )
    assert private.json()["profile_visibility"] == "private"
    hidden = await client.get(url, headers=other.headers)
    unknown = await client.get(f"{api}/settings/profile/{uuid.uuid4()}", headers=other.headers)
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.json()["detail"] == unknown.json()["detail"]
    assert (await client.get(url, headers=user.headers)).status_code == 200
    support = await member_of(client, api, stores, "support")
    seen = await client.get(url, headers=support.headers)
    assert (seen.status_code, seen.json()["phone"]) == (200, user.phone)


async def test_profile_picture_must_be_an_image_the_caller_uploaded(
    client: httpx.AsyncClient, api: str, user: SignedIn, other: SignedIn
) -> None:
    png = samples.image("PNG")
    uploaded = await client.post(
        f"{api}/upload/media", files={"file": ("a.png", png, "image/png")}, headers=user.headers
    )
    assert uploaded.status_code == 201, uploaded.text
    media_id = uploaded.json()["id"]
    foreign = await client.post(
        f"{api}/settings/profile-picture", json={"media_id": media_id}, headers=other.headers
    )
    assert (foreign.status_code, foreign.json()["error"]) == (422, "invalid_picture")
    unknown = await client.post(
        f"{api}/settings/profile-picture",
        json={"media_id": str(uuid.uuid4())},
        headers=user.headers,
    )
    assert unknown.json()["error"] == "invalid_picture"
    mine = await client.post(
        f"{api}/settings/profile-picture", json={"media_id": media_id}, headers=user.headers
    )
    assert mine.status_code == 200, mine.text
    assert mine.json()["profile_picture_id"] == media_id
    removed = await client.post(
        f"{api}/settings/profile-picture", json={"media_id": None}, headers=user.headers
    )
    assert removed.json()["profile_picture_id"] is None


async def test_every_change_is_audited_with_an_activity_event(
    client: httpx.AsyncClient, api: str, db: AsyncSession, stores: Stores, user: SignedIn
) -> None:
    await client.post(f"{api}/settings/update-theme", json={"theme": "light"}, headers=user.headers)
    rows = await db.scalars(
        select(AuditLog).where(
            col(AuditLog.user_id) == user.id, col(AuditLog.action) == "settings.theme"
        )
    )
    assert [r.data["fields"] for r in rows.all()] == [["theme"]]
    events = EventRepository(stores.cassandra)
    for _ in range(50):
        found, _ = await events.pages_by_user(str(user.id), "settings.theme")(
            utcnow().date(), utcnow() - timedelta(hours=1), utcnow(), 10, None
        )
        if found:
            break
        await asyncio.sleep(0.1)
    assert [e.event_type for e in found] == ["settings.theme"]
