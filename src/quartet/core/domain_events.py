"""In-process domain events: a package announces what happened without importing who cares.

A publisher defines its event (a frozen dataclass, beside the code that announces it) and hands
it to the app's `DomainEvents`; `quartet.main` subscribes the listeners at startup. So `audit`
announces a recorded action without importing the activity writer of `events`, and the rate
limiter of `core` reports a refusal without importing the metrics of `observability`.

Listeners run at once, in the order subscribed, inside `publish`, and whatever they raise
reaches the publisher: announcing behaves exactly like the direct call it replaces, so
listeners must be quick and non-blocking (hand slow work to a queue, as the activity writer
does).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request

E = TypeVar("E")


class DomainEvents:
    """One per app: event type -> its listeners."""

    def __init__(self) -> None:
        self._listeners: defaultdict[type[Any], list[Callable[[Any], object]]] = defaultdict(list)

    def subscribe(self, event_type: type[E], listener: Callable[[E], object]) -> None:
        self._listeners[event_type].append(listener)

    def publish(self, event: object) -> None:
        for listener in self._listeners.get(type(event), ()):
            listener(event)


def domain_events_of(request: Request) -> DomainEvents:
    """The app's bus (`app.state.domain_events`, set by `quartet.main.create_app`)."""
    bus: DomainEvents = request.app.state.domain_events
    return bus
