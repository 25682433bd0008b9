"""Quartet: a fully async, layered FastAPI backend over PostgreSQL, MongoDB, Redis and Cassandra."""

__version__ = "0.1.0"
