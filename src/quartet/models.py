"""Every domain's SQLModel tables, imported in one place so Alembic's autogenerate and the test
fixtures see the whole schema. Add a domain's `models` module here when it gains tables."""

from quartet.audit.models import AuditLog
from quartet.auth.models import AuthSession, SpentRefreshToken
from quartet.erasure.models import AccountErasure
from quartet.media.models import Media
from quartet.notifications.models import OutboxMessage
from quartet.oauth.models import OAuthIdentity
from quartet.posts.models import Like, Post
from quartet.rbac.models import Group, GroupPermission, Permission, UserGroup
from quartet.stores.sql import metadata
from quartet.users.models import User
from quartet.verification.models import AccountToken

__all__ = [
    "AccountErasure",
    "AccountToken",
    "AuditLog",
    "AuthSession",
    "Group",
    "GroupPermission",
    "Like",
    "Media",
    "OAuthIdentity",
    "OutboxMessage",
    "Permission",
    "Post",
    "SpentRefreshToken",
    "User",
    "UserGroup",
    "metadata",
]
