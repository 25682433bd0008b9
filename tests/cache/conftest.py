"""The accounts of the session tests (fixtures `user`, `other`, `superuser`)."""

from tests.sessions.conftest import other, superuser, user

__all__ = ["other", "superuser", "user"]
