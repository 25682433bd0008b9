from __future__ import annotations

from pydantic import Field

from quartet.core.schemas import StrictInput


class ChangeContactIn(StrictInput):
    """The proof from verifying the code sent to the new contact."""

    proof: str = Field(min_length=16, max_length=128)
