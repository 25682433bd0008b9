"""The OpenAPI document's tags, in the order a reader meets them, each saying what it groups."""

from __future__ import annotations

from typing import Any

TAGS: list[dict[str, Any]] = [
    {"name": "health", "description": "Probes and store health: no prefix, no rate limit."},
    {
        "name": "auth",
        "description": "Sign-up, login, tokens and cookies, logout, the caller's sessions, "
        "email/phone verification, password reset and the linked login providers.",
    },
    {"name": "oauth", "description": "Social login: the provider redirect flow and its code."},
    {
        "name": "settings",
        "description": "The signed-in user's own account: profile, email, phone, password, "
        "closing the account.",
    },
    {"name": "users", "description": "User administration and personal-data erasure."},
    {"name": "rbac: permissions", "description": "Permission codenames (RBAC)."},
    {"name": "rbac: groups", "description": "Groups and the permissions they grant (RBAC)."},
    {"name": "rbac: users", "description": "A user's groups and effective permissions (RBAC)."},
    {"name": "posts", "description": "Posts and likes, with keyset pagination (PostgreSQL)."},
    {"name": "shop: products", "description": "The product catalogue and its stock (MongoDB)."},
    {"name": "shop: orders", "description": "Orders: all items or none, priced server-side."},
    {"name": "shop: stats", "description": "Sales aggregations over orders."},
    {"name": "events", "description": "The event log (Cassandra): write, read, list a window."},
    {"name": "activity", "description": "The signed-in user's own activity feed (Cassandra)."},
    {"name": "sessions", "description": "Server-side activity sessions (Redis)."},
    {"name": "cache", "description": "Inspect and evict cached entries (Redis)."},
    {"name": "media", "description": "Uploads (multipart or by URL), thumbnails, downloads."},
    {"name": "dashboard", "description": "Aggregated figures for an admin dashboard."},
    {"name": "observability", "description": "Metrics and store diagnostics for operators."},
]
