"""Posts and likes: short texts by users, liked at most once per user, on PostgreSQL."""
