"""The first superuser, from FIRST_SUPERUSER_EMAIL / FIRST_SUPERUSER_PASSWORD (idempotent)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from quartet.core.security import PasswordHasher
from quartet.settings import Settings
from quartet.users.models import User
from quartet.users.repository import UserRepository


async def seed_superuser(session: AsyncSession, settings: Settings) -> str:
    hasher = PasswordHasher(settings.BCRYPT_ROUNDS, workers=1)
    try:
        users = UserRepository(session)
        email = settings.FIRST_SUPERUSER_EMAIL
        password = settings.FIRST_SUPERUSER_PASSWORD.get_secret_value()
        user = await users.get_by("email", email)
        if user is None:
            await users.create(
                User(
                    email=email,
                    full_name="Administrator",
                    hashed_password=await hasher.hash(password),
                    is_superuser=True,
                    is_email_verified=True,
                )
            )
            return f"superuser {email} created"
        changes: dict[str, object] = {}
        if not (user.is_superuser and user.is_active):
            changes.update(is_superuser=True, is_active=True, authz_version=user.authz_version + 1)
        if not await hasher.verify(password, user.hashed_password):
            changes["hashed_password"] = await hasher.hash(password)
        if changes:
            await users.update(user, changes)
            return f"superuser {email} updated"
        return f"superuser {email} up to date"
    finally:
        hasher.close()
