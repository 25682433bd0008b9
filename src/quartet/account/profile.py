"""The signed-in user's profile and settings (`/settings/...`).

Every change goes through `_change`: one transaction that locks the row, applies the change,
writes an audit row (and, after commit, an activity event), then both cached profiles are
invalidated and the updated resource is answered. Another user's profile is visible only when
public and active; a private one is the same 404 as an unknown id, except to holders of
users.read.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TypeVar

from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from quartet.account.errors import PictureNotAllowedError, UnsupportedLanguageError
from quartet.account.profile_schemas import ProfileOut, PublicProfileOut, SettingsOut
from quartet.audit.trail import record_action
from quartet.auth.tokens import Principal
from quartet.core.client import ClientMeta
from quartet.core.domain_events import DomainEvents
from quartet.media.repository import MediaRepository
from quartet.rbac.errors import UserNotFoundError
from quartet.settings import Settings
from quartet.stores.cache import Cache
from quartet.stores.postgres import TransactionRunner
from quartet.users.cache import ProfileCache
from quartet.users.errors import IdentifierTakenError
from quartet.users.models import User
from quartet.users.permissions import USERS_READ
from quartet.users.repository import UserRepository

Answer = TypeVar("Answer", bound=BaseModel)


def _answer(model: type[Answer], user: User, **worked_out: object) -> Answer:
    """`model` read from the user's columns of the same names, but for the fields the service
    `worked_out` (what the owner hides, what the row only implies)."""
    stored = {name: getattr(user, name) for name in model.model_fields if name not in worked_out}
    return model.model_validate({**stored, **worked_out})


class ProfileService:
    def __init__(
        self,
        settings: Settings,
        transactions: TransactionRunner,
        cache: Cache,
        domain_events: DomainEvents,
    ) -> None:
        self.languages = {tag.casefold(): tag for tag in settings.SUPPORTED_LANGUAGES}
        self.tx = transactions
        self.cache = cache
        self.domain_events = domain_events

    # -- reads -----------------------------------------------------------------------------

    async def own(self, db: AsyncSession, principal: Principal) -> ProfileOut:
        name = ProfileCache.names(principal.user_id)[1]

        async def load() -> ProfileOut | None:
            user = await UserRepository(db).get_or_none(principal.user_id)
            return ProfileOut.model_validate(user) if user is not None else None

        profile = await self.cache.get_or_load(name, ProfileOut, load)
        if profile is None:
            raise UserNotFoundError()
        return profile

    async def public(
        self, db: AsyncSession, principal: Principal, user_id: uuid.UUID
    ) -> PublicProfileOut:
        user = await UserRepository(db).get_or_none(user_id)
        privileged = principal.user_id == user_id or principal.has(USERS_READ)
        hidden = user is None or (
            not privileged and (user.profile_visibility == "private" or not user.is_active)
        )
        if user is None or hidden:
            raise UserNotFoundError()
        return _answer(
            PublicProfileOut,
            user,
            country=user.country if privileged or user.show_country else None,
            email=user.email if privileged or user.show_email else None,
            phone=user.phone if privileged or user.show_phone else None,
        )

    def settings_of(self, user: User) -> SettingsOut:
        return _answer(
            SettingsOut,
            user,
            has_password=user.hashed_password is not None,
            supported_languages=sorted(self.languages.values()),
        )

    async def settings(self, db: AsyncSession, principal: Principal) -> SettingsOut:
        user = await UserRepository(db).get_or_none(principal.user_id)
        if user is None or not user.is_active:
            raise UserNotFoundError()
        return self.settings_of(user)

    # -- changes ---------------------------------------------------------------------------

    def language(self, tag: str) -> str:
        """The supported tag `tag` names (matched case-insensitively, answered canonical)."""
        canonical = self.languages.get(tag.casefold())
        if canonical is None:
            raise UnsupportedLanguageError(sorted(self.languages.values()))
        return canonical

    async def change(
        self,
        principal: Principal,
        changes: Mapping[str, object],
        action: str,
        meta: ClientMeta,
    ) -> User:
        async def work(session: AsyncSession) -> User:
            users = UserRepository(session)
            user = await users.get_locked(principal.user_id)
            username = changes.get("username")
            if (
                isinstance(username, str)
                and username.casefold() != (user.username or "").casefold()
            ) and await users.is_taken("username", username):
                raise IdentifierTakenError("username")
            picture = changes.get("profile_picture_id")
            if isinstance(picture, uuid.UUID):
                await self._check_picture(session, principal.user_id, picture)
            await users.update(user, dict(changes))
            await record_action(
                session, self.domain_events, action, meta, user.id, fields=sorted(changes)
            )
            return user

        try:
            user = await self.tx.run(work)
        except IntegrityError as error:  # a concurrent write took the username first
            raise IdentifierTakenError("username") from error
        await self.invalidate(principal.user_id)
        return user

    @staticmethod
    async def _check_picture(session: AsyncSession, owner: uuid.UUID, media_id: uuid.UUID) -> None:
        media = await MediaRepository(session).get_or_none(media_id)
        if media is None or media.owner_id != owner or media.kind != "image":
            raise PictureNotAllowedError()

    async def invalidate(self, user_id: uuid.UUID) -> None:
        await ProfileCache(self.cache).invalidate(user_id)

    # -- changes answered as the resource the route shows ----------------------------------

    async def change_profile(
        self, principal: Principal, changes: Mapping[str, object], action: str, meta: ClientMeta
    ) -> ProfileOut:
        """`change`, answered as the owner's full profile."""
        return ProfileOut.model_validate(await self.change(principal, changes, action, meta))

    async def change_settings(
        self, principal: Principal, changes: Mapping[str, object], action: str, meta: ClientMeta
    ) -> SettingsOut:
        """`change`, answered as the owner's settings."""
        return self.settings_of(await self.change(principal, changes, action, meta))
