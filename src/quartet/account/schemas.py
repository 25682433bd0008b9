from __future__ import annotations

from pydantic import ConfigDict, Field

from quartet.core.schemas import StrictInput


class ChangeContactIn(StrictInput):
    """The proof from verifying the code sent to the new contact."""

    proof: str = Field(min_length=16, max_length=128)

    model_config = ConfigDict(json_schema_extra={"examples": [{"proof": "pr_9Xk2mQ7vL4sT8wZ1"}]})
