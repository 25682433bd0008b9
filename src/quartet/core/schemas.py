"""The schema bases every domain builds on: `StrictInput` for request models (unknown fields
refused, text capped, no text a store cannot keep), `PartialUpdate` for PATCH bodies and
`ResponseModel` for answers read from rows, documents and views (`from_attributes`), and
`examples` for the bodies a model shows in OpenAPI.

PostgreSQL refuses NUL (U+0000) in text and UTF-8 cannot encode an unpaired surrogate (JSON
allows `"\\ud800"`), which Cassandra's and PostgreSQL's drivers then fail to send: either would
be a 500 after the work began (a bcrypt hash spent, a row half written). Every string in the
body, nested ones included, is checked before the model is built, so such input is a 422 before
any handler runs.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, field_validator, model_validator
from pydantic.config import JsonDict, JsonValue

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MAX_TEXT = 4096
"""The cap of every input string that does not declare its own `max_length`."""


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
    """Base of request bodies: `extra="forbid"`, every text capped and storable in all four
    stores."""

    model_config = ConfigDict(extra="forbid", str_max_length=MAX_TEXT)

    @field_validator("*", mode="before")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        _check(value)
        return value


class PartialUpdate(StrictInput):
    """A PATCH body: only the fields sent change, at least one must be sent, and `null` is
    accepted only for the fields named in `nullable` (it clears them)."""

    nullable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _changes_something(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        nulls = {name for name in self.model_fields_set if getattr(self, name) is None}
        if nulls - self.nullable:
            raise ValueError(f"{', '.join(sorted(nulls - self.nullable))} cannot be null")
        return self

    def changes(self) -> dict[str, Any]:
        """The fields sent, with their validated values."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class ResponseModel(BaseModel):
    """Base of answers: built with `model_validate` from whatever the service returns (an ORM
    row, a stored document, a view dataclass), reading its attributes."""

    model_config = ConfigDict(from_attributes=True)


def examples(*bodies: JsonDict) -> ConfigDict:
    """A `model_config` showing `bodies` as the model's examples in OpenAPI (pydantic merges it
    with the base's config, so a `ResponseModel` keeps `from_attributes`)."""
    shown: list[JsonValue] = [*bodies]
    return ConfigDict(json_schema_extra={"examples": shown})
