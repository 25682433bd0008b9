"""A long-lived component's one background task (the activity writer's drain, the outbox
dispatcher's loop, the erasure worker, the media sweep), started and stopped the same way."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from contextlib import suppress
from typing import Any


class BackgroundTask:
    """At most one task at a time. `stop` waits up to a grace time for the task to end on its
    own (its owner has told it to finish first), then cancels it; without one it cancels at
    once."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None

    def start(self, run: Callable[[], Coroutine[Any, Any, None]]) -> None:
        if self._task is None:
            self._task = asyncio.create_task(run(), name=self.name)

    async def stop(self, grace: float | None = None) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        if grace is not None:
            try:
                await asyncio.wait_for(asyncio.shield(task), grace)
                return
            except TimeoutError:
                pass
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
