"""Erasing an account from all four stores: a request recorded in PostgreSQL first, then each
store cleaned idempotently, retried by a background worker until every store is done."""
