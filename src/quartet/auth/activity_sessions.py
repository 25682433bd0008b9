"""What auth needs of the users' activity sessions, as a protocol auth owns.

`quartet.sessions` keeps the activity sessions (its `ActivitySessionRepository` satisfies this
protocol) and builds on auth (its routes need the caller), so auth must not import it: the app
hands auth one instance (`app.state.activity_sessions`, set by `quartet.main`). Login starts
the caller's session, a refresh touches it, every token check queues a touch in the request's
one Redis round trip, and closing an account ends it. Any Redis error still propagates, so it
fails the login, the refresh or the request exactly as before.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Protocol

from quartet.stores.redis import RedisClient


class ActivitySessions(Protocol):
    async def start(self, user_id: uuid.UUID, auth_session_id: uuid.UUID) -> None:
        """At login: start the user's activity session, or join and refresh a live one."""

    async def touch(
        self, user_id: uuid.UUID, auth_session_id: uuid.UUID | None = None
    ) -> object | None:
        """Refresh a live session; None when there is none (or the auth session is not in it)."""

    def queue_touch(
        self, pipe: RedisClient, user_id: str, auth_session_id: str | None, *, unless_exists: str
    ) -> None:
        """`touch` on the token check's pipeline, skipped while the key `unless_exists` (the
        token's revocation flag) exists; its answer is read with `touched`."""

    def touched(self, result: Sequence[str | None]) -> object | None:
        """The session a queued touch refreshed, or None."""

    async def delete(self, user_id: uuid.UUID) -> None:
        """End the user's activity session (an account deactivated)."""
