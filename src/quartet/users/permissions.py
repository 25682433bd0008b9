"""Permissions the user administration routes check."""

from __future__ import annotations

from quartet.core.codenames import Permission, declare

USERS_READ = Permission("users.read", "List and read any user's account")
USERS_UPDATE = Permission(
    "users.update", "Edit any user's account, including its status and whether it is active"
)
USERS_DELETE = Permission("users.delete", "Delete (deactivate and anonymise) any user's account")

PERMISSIONS = declare(USERS_READ, USERS_UPDATE, USERS_DELETE)
