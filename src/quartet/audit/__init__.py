"""Audit log: who did what, from where; written in the same transaction as the change."""
