"""Secrets never reach a log line: every formatted line passes through `redact`.

Code never logs a credential on purpose; this is the net under it (a query string carrying an
OAuth `code`, an exception message echoing a header, a driver URL with its password).
"""

from __future__ import annotations

import re

_SENSITIVE = (
    r"[a-z_]*password|passwd|[a-z_]*secret|[a-z_]*token|authorization|api_?key|"
    r"code|code_verifier|otp|state|dsn"
)
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")
_QUERY_PAIR = re.compile(rf"(?i)(?<![A-Za-z0-9_])({_SENSITIVE})=([^&\s\"'\\]+)")
_JSON_PAIR = re.compile(rf"(?i)(\\?[\"']({_SENSITIVE})\\?[\"']\s*:\s*\\?[\"'])([^\"'\\]+)")
_SQL_PASSWORD = re.compile(r"(?i)(\bpassword\s+)'[^']*'")
_URL_PASSWORD = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)([^@\s/]+)(@)")

REDACTED = "[redacted]"


def redact(text: str) -> str:
    """`text` with tokens, passwords, codes and secrets replaced by a marker."""
    text = _JWT.sub(REDACTED, text)
    text = _BEARER.sub(rf"\1 {REDACTED}", text)
    text = _URL_PASSWORD.sub(rf"\1{REDACTED}\3", text)
    text = _SQL_PASSWORD.sub(rf"\1'{REDACTED}'", text)
    text = _QUERY_PAIR.sub(rf"\1={REDACTED}", text)
    return _JSON_PAIR.sub(rf"\1{REDACTED}", text)
