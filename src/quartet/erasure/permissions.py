"""Permissions the erasure routes check."""

from __future__ import annotations

from quartet.core.codenames import Permission, declare

ERASURES_READ = Permission("erasures.read", "List account erasures still pending in some store")

PERMISSIONS = declare(ERASURES_READ)
