"""Permissions the cache management routes check."""

from __future__ import annotations

from quartet.core.codenames import Permission, declare

CACHE_READ = Permission("cache.read", "See the cache's status and statistics")
CACHE_CLEAR = Permission("cache.clear", "Clear the cache or remove one of its keys")

PERMISSIONS = declare(CACHE_READ, CACHE_CLEAR)
