from __future__ import annotations

from quartet.auth.schemas import OpaqueToken
from quartet.core.schemas import StrictInput, examples


class ChangeContactIn(StrictInput):
    """The proof from verifying the code sent to the new contact."""

    proof: OpaqueToken

    model_config = examples({"proof": "pr_9Xk2mQ7vL4sT8wZ1"})
