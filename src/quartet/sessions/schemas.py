from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from quartet.core.schemas import ResponseModel


class ActivitySessionOut(ResponseModel):
    """A user's activity session as the API shows it (never the auth sessions it joins)."""

    user_id: uuid.UUID
    session_token: str = Field(description="identifies this activity session; not a credential")
    login_time: datetime
    last_active: datetime
    ttl_seconds: int = Field(description="seconds until Redis expires it unless touched")
