"""Forged, altered, expired, mistyped and revoked bearer tokens: all 401 invalid_token.

Forgeries are built with pyjwt directly from the claims of a real token, and a control case
re-signs those claims with the real key and algorithm, so every refusal below is due to the one
defect each test introduces.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from typing import Any

import httpx
import jwt
import pytest

from quartet.core.security import REQUIRED_CLAIMS
from quartet.settings import Settings
from quartet.stores.registry import Stores
from tests.accounts import bearer, me
from tests.auth.flows import assert_invalid_token, claims_of


def _sign(claims: dict[str, Any], settings: Settings, **changes: Any) -> str:
    """`claims` with `changes` applied (None deletes a claim), signed with the real key."""
    payload = {k: v for k, v in {**claims, **changes}.items() if v is not None}
    return jwt.encode(payload, settings.SECRET_KEY.get_secret_value(), settings.JWT_ALGORITHM)


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def test_control_the_real_key_and_claims_are_accepted(
    client: httpx.AsyncClient, api: str, settings: Settings, tokens: dict[str, Any]
) -> None:
    for kind in ("access_token", "session_token"):
        resigned = _sign(claims_of(tokens[kind], settings), settings)
        response = await me(client, api, resigned)
        assert response.status_code == 200, response.text


async def test_alg_none_is_refused(
    client: httpx.AsyncClient, api: str, settings: Settings, tokens: dict[str, Any]
) -> None:
    claims = claims_of(tokens["access_token"], settings)
    unsigned = jwt.encode(claims, "", algorithm="none")  # PyJWT takes "" as no key
    assert unsigned.endswith(".")
    assert_invalid_token(await me(client, api, unsigned))
    # the same with a header spelled by hand, and with a leftover signature kept
    _, payload, signature = tokens["access_token"].split(".")
    for alg in ("none", "None", "NONE"):
        forged = f"{_b64({'alg': alg, 'typ': 'JWT'})}.{payload}."
        assert_invalid_token(await me(client, api, forged))
        assert_invalid_token(await me(client, api, forged + signature))


async def test_a_token_signed_with_another_key_is_refused(
    client: httpx.AsyncClient, api: str, settings: Settings, tokens: dict[str, Any]
) -> None:
    claims = claims_of(tokens["access_token"], settings)
    forged = jwt.encode(claims, "an-attackers-own-secret-key-of-32+chars", algorithm="HS256")
    assert_invalid_token(await me(client, api, forged))


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
async def test_a_token_with_another_algorithm_is_refused_even_with_the_real_key(
    client: httpx.AsyncClient, api: str, settings: Settings, tokens: dict[str, Any], algorithm: str
) -> None:
    claims = claims_of(tokens["access_token"], settings)
    forged = jwt.encode(claims, settings.SECRET_KEY.get_secret_value(), algorithm=algorithm)
    assert_invalid_token(await me(client, api, forged))


async def test_a_tampered_payload_with_the_original_signature_is_refused(
    client: httpx.AsyncClient, api: str, settings: Settings, tokens: dict[str, Any]
) -> None:
    header, _, signature = tokens["access_token"].split(".")
    claims = claims_of(tokens["access_token"], settings)
    for tampered in (
        {**claims, "roles": ["superuser"]},
        {**claims, "sub": str(uuid.uuid4())},
        {**claims, "exp": claims["exp"] + 86400},
    ):
        forged = f"{header}.{_b64(tampered)}.{signature}"
        assert_invalid_token(await me(client, api, forged))


async def test_an_expired_token_is_refused(
    client: httpx.AsyncClient, api: str, settings: Settings, tokens: dict[str, Any]
) -> None:
    now = int(time.time())
    claims = claims_of(tokens["access_token"], settings)
    expired = _sign(claims, settings, iat=now - 7200, exp=now - 60)
    assert_invalid_token(await me(client, api, expired))


async def test_a_token_accepted_before_is_refused_once_it_expires(
    client: httpx.AsyncClient, api: str, settings: Settings, tokens: dict[str, Any]
) -> None:
    """A worker remembers the tokens it verified (`TokenService.bearer`); expiry is still
    checked on every request."""
    claims = claims_of(tokens["access_token"], settings)
    expires = int(time.time()) + 2
    short_lived = _sign(claims, settings, exp=expires)
    response = await me(client, api, short_lived)
    assert response.status_code == 200, response.text
    await asyncio.sleep(max(0.0, expires - time.time()) + 0.05)
    assert_invalid_token(await me(client, api, short_lived))


async def test_a_refused_token_is_not_remembered(
    client: httpx.AsyncClient, api: str, settings: Settings, tokens: dict[str, Any]
) -> None:
    """The same forged string twice is verified (and refused) twice."""
    header, payload, _ = tokens["access_token"].split(".")
    forged = f"{header}.{payload}.{_b64({'not': 'a signature'})}"
    for _ in range(2):
        assert_invalid_token(await me(client, api, forged))


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        *(("typ", typ) for typ in ("refresh", "id", "ACCESS", "", "access ")),  # wrong type
        ("aud", "another-api"),  # another audience or issuer
        ("aud", ["another-api"]),
        ("iss", "someone-else"),
        *((claim, None) for claim in REQUIRED_CLAIMS),  # a required claim missing
        ("sub", "not-a-uuid"),  # malformed
        ("sub", 12),
        ("sid", "12"),
        ("sid", ["a"]),
        ("ver", "x"),
        ("roles", 5),
    ],
)
async def test_a_token_with_a_wrong_missing_or_malformed_claim_is_refused(
    client: httpx.AsyncClient,
    api: str,
    settings: Settings,
    tokens: dict[str, Any],
    claim: str,
    value: Any,
) -> None:
    claims = claims_of(tokens["access_token"], settings)
    assert_invalid_token(await me(client, api, _sign(claims, settings, **{claim: value})))


async def test_a_logged_out_sessions_tokens_are_refused(
    client: httpx.AsyncClient, api: str, tokens: dict[str, Any]
) -> None:
    logout = await client.post(f"{api}/auth/logout", headers=bearer(tokens["access_token"]))
    assert logout.status_code == 204
    assert_invalid_token(await me(client, api, tokens["access_token"]))
    assert_invalid_token(await me(client, api, tokens["session_token"]))


async def test_a_token_minted_before_an_authorization_change_is_refused(
    client: httpx.AsyncClient, api: str, stores: Stores, tokens: dict[str, Any], settings: Settings
) -> None:
    """A session token carries the user's authorization version; a role change bumps it."""
    user_id = claims_of(tokens["access_token"], settings)["sub"]
    await stores.redis.set(f"{settings.REDIS_KEY_PREFIX}auth:authz:{{{user_id}}}", "1")
    assert_invalid_token(await me(client, api, tokens["access_token"]))
    assert_invalid_token(await me(client, api, tokens["session_token"]))


async def test_a_refresh_token_is_not_a_bearer_token(
    client: httpx.AsyncClient, api: str, tokens: dict[str, Any]
) -> None:
    assert_invalid_token(await me(client, api, tokens["refresh_token"]))
    response = await client.get(
        f"{api}/auth/me", headers={"X-Session-Token": tokens["refresh_token"]}
    )
    assert_invalid_token(response)


@pytest.mark.parametrize("garbage", ["not-a-jwt", "a.b.c", "eyJ.eyJ.", "x" * 4000])
async def test_garbage_is_refused(client: httpx.AsyncClient, api: str, garbage: str) -> None:
    assert_invalid_token(await me(client, api, garbage))
