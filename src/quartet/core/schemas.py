"""The one base of every request model: unknown fields refused, and no text a store cannot keep.

PostgreSQL refuses NUL (U+0000) in text and UTF-8 cannot encode an unpaired surrogate (JSON
allows `"\\ud800"`), which Cassandra's and PostgreSQL's drivers then fail to send: either would
be a 500 after the work began (a bcrypt hash spent, a row half written). Every string in the
body, nested ones included, is checked before the model is built, so such input is a 422 before
any handler runs.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _check(value: Any) -> None:
    if isinstance(value, str):
        if UNSTORABLE.search(value):
            raise ValueError("text must not contain NUL characters or unpaired surrogates")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check(key)
            _check(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _check(item)


class StrictInput(BaseModel):
    """Base of request bodies: `extra="forbid"`, every text storable in all four stores."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        _check(value)
        return value
