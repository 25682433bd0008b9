"""Permissions the RBAC routes check."""

RBAC_READ = "rbac.read"
RBAC_MANAGE = "rbac.manage"
RBAC_ASSIGN = "rbac.assign"

PERMISSIONS: tuple[tuple[str, str], ...] = (
    (RBAC_READ, "Read permissions, groups and any user's groups and permissions"),
    (RBAC_MANAGE, "Create, edit and delete permissions and groups, and change group permissions"),
    (RBAC_ASSIGN, "Add users to groups and remove them"),
)
