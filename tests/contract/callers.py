"""The accounts schemathesis's requests are made as: real ones, registered and logged in over
HTTP against the server under test."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import httpx
import schemathesis

from tests.accounts import bearer, unique, unique_phone

# Operations that end the caller's own session or account (or may: the schema's examples
# carry a password). Each of their cases runs as an account of its own, so the next case
# still reaches the handler instead of a 401.
SELF_ENDING = frozenset(
    {
        "POST /api/v1/auth/logout",
        "POST /api/v1/auth/logout-everywhere",
        "DELETE /api/v1/auth/sessions/{session_id}",
        "POST /api/v1/auth/change-password",
        "POST /api/v1/auth/set-password",
        "POST /api/v1/settings/deactivate-account",
        "POST /api/v1/settings/delete-account",
    }
)


def secret_password() -> str:
    """A valid password that no schema example carries."""
    return f"{secrets.token_urlsafe(12)}-7q"


@dataclass(frozen=True)
class Callers:
    """Accounts on the live server, for the operations that end their caller's session."""

    http: httpx.Client
    api: str

    def account(self) -> dict[str, str]:
        """Headers of a new account's access token; its password is in no schema example."""
        name, password = unique("st"), secret_password()
        body = {"email": f"{name}@example.com", "username": name, "phone": unique_phone()}
        created = self.http.post(f"{self.api}/auth/register", json={**body, "password": password})
        assert created.status_code == 201, created.text
        login = self.http.post(
            f"{self.api}/auth/login", json={"email": body["email"], "password": password}
        )
        assert login.status_code == 200, login.text
        return bearer(login.json()["access_token"])

    def headers_for(
        self, case: schemathesis.Case[Any], superuser: dict[str, str]
    ) -> dict[str, str]:
        """`superuser`'s headers, or a new account's for an operation in SELF_ENDING."""
        if f"{case.method.upper()} {case.path}" in SELF_ENDING:
            return self.account()
        return superuser
