"""Permissions the erasure routes check."""

ERASURES_READ = "erasures.read"

PERMISSIONS: tuple[tuple[str, str], ...] = (
    (ERASURES_READ, "List account erasures still pending in some store"),
)
