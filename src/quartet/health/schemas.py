from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class HealthOut(BaseModel):
    status: Literal["ok"]
    service: str
    version: str
    environment: str


class StoreStatus(BaseModel):
    status: Literal["ok", "unavailable"]
    latency_ms: float
    version: str | None = None
    error: str | None = None


class ReadinessOut(BaseModel):
    status: Literal["ok", "unavailable"]
    stores: dict[str, StoreStatus]
    failed: list[str]


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
