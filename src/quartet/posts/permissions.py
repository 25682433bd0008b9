"""Permissions the posts routes check."""

from __future__ import annotations

from quartet.core.codenames import Permission, declare

POSTS_MODERATE = Permission("posts.moderate", "Edit and delete any user's posts")

PERMISSIONS = declare(POSTS_MODERATE)
