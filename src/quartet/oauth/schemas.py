from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from quartet.core.schemas import ResponseModel, StrictInput, examples


class ProviderOut(BaseModel):
    name: str
    display_name: str
    initiate_url: str
    """Path on this API to send the browser to (add `?redirect_to=`)."""


class ExchangeIn(StrictInput):
    model_config = examples({"code": "oc_2Wq8Er5Ty1Ui3Op7"})
    code: str = Field(min_length=1, max_length=128)


class IdentityOut(ResponseModel):
    provider: str
    email: str | None
    email_verified: bool
    linked_at: datetime
