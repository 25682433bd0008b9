"""Permissions the posts routes check."""

POSTS_MODERATE = "posts.moderate"

PERMISSIONS: tuple[tuple[str, str], ...] = ((POSTS_MODERATE, "Edit and delete any user's posts"),)
