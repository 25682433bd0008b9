"""Permissions the RBAC routes check."""

from __future__ import annotations

from quartet.core.codenames import Permission, declare

RBAC_READ = Permission(
    "rbac.read", "Read permissions, groups and any user's groups and permissions"
)
RBAC_MANAGE = Permission(
    "rbac.manage", "Create, edit and delete permissions and groups, and change group permissions"
)
RBAC_ASSIGN = Permission("rbac.assign", "Add users to groups and remove them")

PERMISSIONS = declare(RBAC_READ, RBAC_MANAGE, RBAC_ASSIGN)
