"""The domain-event bus behaves like the direct calls it replaced: listeners of the event's type
run at once, in the order subscribed, and what they raise reaches the publisher."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from quartet.core.domain_events import DomainEvents


@dataclass(frozen=True)
class Happened:
    what: str


@dataclass(frozen=True)
class Other:
    what: str


def test_listeners_of_the_type_run_in_order() -> None:
    bus, heard = DomainEvents(), []
    bus.subscribe(Happened, lambda event: heard.append(f"first {event.what}"))
    bus.subscribe(Other, lambda event: heard.append(f"other {event.what}"))
    bus.subscribe(Happened, lambda event: heard.append(f"second {event.what}"))
    bus.publish(Happened("login"))
    assert heard == ["first login", "second login"]


def test_a_listener_failure_reaches_the_publisher() -> None:
    bus = DomainEvents()

    def fail(event: Happened) -> None:
        raise RuntimeError(event.what)

    bus.subscribe(Happened, fail)
    with pytest.raises(RuntimeError, match="login"):
        bus.publish(Happened("login"))
    bus.publish(Other("nobody listens"))
