"""Providers from settings: `OAUTH_<NAME>_*` variables, the built-in Google and GitHub, and
any other OpenID Connect provider by issuer; incomplete ones are not offered."""

from __future__ import annotations

import pytest

from quartet.oauth.providers import GitHubProvider, OidcProvider, ProviderRegistry
from quartet.settings import Settings
from tests.conftest import test_env as app_env


def test_providers_come_from_oauth_name_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {
        **app_env(),
        "OAUTH_GOOGLE_CLIENT_ID": "g-id",
        "OAUTH_GOOGLE_CLIENT_SECRET": "g-secret",
        "OAUTH_GITHUB_CLIENT_ID": "gh-id",
        "OAUTH_GITHUB_CLIENT_SECRET": "gh-secret",
        "OAUTH_MY_IDP_ISSUER": "https://idp.example.com/realms/x",
        "OAUTH_MY_IDP_CLIENT_ID": "kc-id",
        "OAUTH_MY_IDP_CLIENT_SECRET": "kc-secret",
        "OAUTH_NO_ISSUER_CLIENT_ID": "x",
        "OAUTH_NO_ISSUER_CLIENT_SECRET": "y",
        "OAUTH_HALF_CLIENT_ID": "only-an-id",
    }.items():
        monkeypatch.setenv(key, value)
    settings = Settings(_env_file=None)
    assert settings.OAUTH_PROVIDERS["my-idp"].issuer == "https://idp.example.com/realms/x"
    assert "g-secret" not in repr(settings)

    registry = ProviderRegistry.from_settings(settings)
    assert [p.name for p in registry.configured()] == ["github", "google", "my-idp"]
    google, github, idp = registry.get("google"), registry.get("github"), registry.get("my-idp")
    assert isinstance(google, OidcProvider)
    assert google.issuer == "https://accounts.google.com"
    assert google.accepts_issuer("accounts.google.com")
    assert not google.accepts_issuer("https://idp.example.com/realms/x")
    assert isinstance(github, GitHubProvider)
    assert github.base == "https://github.com"
    assert isinstance(idp, OidcProvider)
    assert idp.display_name == "My Idp"


def test_explicit_providers_replace_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OAUTH_GITHUB_CLIENT_ID", "gh-id")
    monkeypatch.setenv("OAUTH_GITHUB_CLIENT_SECRET", "gh-secret")
    settings = Settings(_env_file=None, OAUTH_PROVIDERS={})
    assert ProviderRegistry.from_settings(settings).configured() == []
