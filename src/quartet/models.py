"""Every domain's SQLModel tables, imported in one place so Alembic's autogenerate and the test
fixtures see the whole schema. Add a domain's `models` module here when it gains tables."""

from quartet.audit.models import AuditLog
from quartet.auth.models import AuthSession, SpentRefreshToken
from quartet.oauth.models import OAuthIdentity
from quartet.posts.models import Like, Post
from quartet.stores.sql import metadata
from quartet.users.models import User

__all__ = [
    "AuditLog",
    "AuthSession",
    "Like",
    "OAuthIdentity",
    "Post",
    "SpentRefreshToken",
    "User",
    "metadata",
]
