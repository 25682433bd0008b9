from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from quartet.core.schemas import examples


class HealthOut(BaseModel):
    status: Literal["ok"]
    service: str
    version: str
    environment: str

    model_config = examples(
        {"status": "ok", "service": "Quartet", "version": "0.1.0", "environment": "local"}
    )


class StoreStatus(BaseModel):
    status: Literal["ok", "unavailable"]
    latency_ms: float
    version: str | None = None
    error: str | None = None


class ReadinessOut(BaseModel):
    status: Literal["ok", "unavailable"]
    stores: dict[str, StoreStatus]
    failed: list[str]

    model_config = examples(
        {
            "status": "ok",
            "stores": {"redis": {"status": "ok", "latency_ms": 0.4, "version": "7.4.1"}},
            "failed": [],
        }
    )


class PoolState(BaseModel):
    size: int
    checked_in: int
    checked_out: int
    overflow: int


class DatabaseOut(BaseModel):
    status: Literal["ok"]
    version: str
    database: str
    pool: PoolState
