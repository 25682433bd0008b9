"""Cache management (seed 004): status, clear and single-key delete of the cache namespace only."""
