"""Fixtures of the auth tests."""

from __future__ import annotations

from typing import Any

import pytest

from tests.accounts import SignedIn


@pytest.fixture
def tokens(user: SignedIn) -> dict[str, Any]:
    """The tokens of a fresh account's login (through the rolled-back `client`)."""
    return user.tokens
