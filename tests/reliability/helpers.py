"""Timing helpers shared by the reliability tests."""

from __future__ import annotations

import time
from collections.abc import Awaitable

import httpx

DEADLINE = 3.0
"""STORE_DEADLINE_SECONDS of the apps under fault: short enough to keep the tests quick, long
enough that a fresh app's first login (new connections, script loads) fits it under load."""
SLACK = 0.75
"""Event loop and in-process client overhead on a loaded machine."""


async def timed(call: Awaitable[httpx.Response]) -> tuple[httpx.Response, float]:
    """The response and how long it took, in seconds."""
    started = time.perf_counter()
    response = await call
    return response, time.perf_counter() - started
