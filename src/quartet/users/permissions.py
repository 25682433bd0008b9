"""Permissions the user administration routes check."""

USERS_READ = "users.read"
USERS_UPDATE = "users.update"
USERS_DELETE = "users.delete"

PERMISSIONS: tuple[tuple[str, str], ...] = (
    (USERS_READ, "List and read any user's account"),
    (USERS_UPDATE, "Edit any user's account, including its status and whether it is active"),
    (USERS_DELETE, "Delete (deactivate and anonymise) any user's account"),
)
