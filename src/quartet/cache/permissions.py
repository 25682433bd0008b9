"""Permissions the cache management routes check."""

CACHE_READ = "cache.read"
CACHE_CLEAR = "cache.clear"

PERMISSIONS: tuple[tuple[str, str], ...] = (
    (CACHE_READ, "See the cache's status and statistics"),
    (CACHE_CLEAR, "Clear the cache or remove one of its keys"),
)
