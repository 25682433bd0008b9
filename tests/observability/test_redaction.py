"""The net under every log line and Sentry event: what `redact` removes and what it keeps."""

from __future__ import annotations

import pytest

from quartet.core.log_redaction import REDACTED, redact

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl"


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        (f"token {JWT} seen", JWT),
        ("Authorization: Bearer opaque-token-value-123", "opaque-token-value-123"),
        ('GET /auth/callback?code=abc123&state=xyz HTTP/1.1" 200', "abc123"),
        ('GET /auth/callback?code=abc123&state=xyz-state HTTP/1.1" 200', "xyz-state"),
        ('{"password": "hunter2-x", "user_id": "u1"}', "hunter2-x"),
        ('{\\"refresh_token\\": \\"r-tok-9\\"}', "r-tok-9"),
        ("postgresql+asyncpg://app:db-pass-1@db:5432/quartet", "db-pass-1"),
        ("redis://:redis-pass@cache:6379/0", "redis-pass"),
        ("ALTER ROLE app WITH PASSWORD 'sql-pass'", "sql-pass"),
        ("client_secret=cs-42&grant_type=code", "cs-42"),
    ],
)
def test_secrets_are_redacted(line: str, secret: str) -> None:
    cleaned = redact(line)
    assert secret not in cleaned
    assert REDACTED in cleaned


@pytest.mark.parametrize(
    "line",
    [
        '{"request_id": "0193a-b", "user_id": "5f0c", "route": "/api/v1/posts/{post_id}"}',
        "GET /api/v1/posts?limit=50&cursor=abc HTTP/1.1",
        "barcode=5 zipcode=12345",
        "slow postgres query: 250.1 ms",
    ],
)
def test_ordinary_lines_are_kept(line: str) -> None:
    assert redact(line) == line
