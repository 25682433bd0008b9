"""schemathesis over every operation of the app's OpenAPI document, against a real uvicorn of
the app on real stores (`contract_app`): positive and negative data (examples, coverage and
fuzzing phases), then stateful sequences that feed one operation's answers into the next
through inferred links. Each answer must pass `not_a_server_error`, `status_code_conformance`,
`content_type_conformance` and `response_schema_conformance` (SCHEMATHESIS_CONFIG)."""

from __future__ import annotations

from typing import Any

import hypothesis
import schemathesis

from quartet.main import create_app
from tests.conftest import make_settings
from tests.contract.callers import Callers
from tests.contract.conftest import SCHEMATHESIS_CONFIG, STATEFUL_SCENARIOS, STATEFUL_STEPS
from tests.servers import Server


def _document() -> dict[str, Any]:
    """The document the server under test serves at /openapi.json (same code, same settings),
    read at collection time, when no server runs yet."""
    document: dict[str, Any] = create_app(make_settings()).openapi()
    return document


schema = schemathesis.openapi.from_dict(
    _document(), config=schemathesis.Config.from_dict(SCHEMATHESIS_CONFIG)
)


@schema.parametrize()
def test_operation_conforms(
    case: schemathesis.Case[Any],
    live_api: Server,
    callers: Callers,
    superuser_headers: dict[str, str],
) -> None:
    case.call_and_validate(
        base_url=live_api.base_url, headers=callers.headers_for(case, superuser_headers)
    )


def test_stateful_sequences_conform(
    live_api: Server, callers: Callers, scenario_superusers: list[dict[str, str]]
) -> None:
    """Inferred links (an id a response names, fed to the operations that take it) chain
    creations to reads, updates and deletions of the same resources."""
    superusers = iter(scenario_superusers)
    workflow = schema.as_state_machine()

    class Scenario(workflow):  # type: ignore[valid-type,misc]
        def setup(self) -> None:
            self.superuser = next(superusers, scenario_superusers[-1])

        def get_call_kwargs(self, case: schemathesis.Case[Any]) -> dict[str, Any]:
            return {
                "base_url": live_api.base_url,
                "headers": callers.headers_for(case, self.superuser),
            }

    # One hypothesis run per scenario: which rules may follow depends on what the live server
    # answered before (a codename now taken, a resource gone), so scenarios sharing a run's
    # choice tree would be reported as a flaky strategy instead of being checked. Generation
    # only, for the same reason (a shrinking replay meets a server whose state moved on).
    for _ in range(STATEFUL_SCENARIOS):
        Scenario.run(
            settings=hypothesis.settings(
                max_examples=1,
                stateful_step_count=STATEFUL_STEPS,
                deadline=None,
                database=None,
                phases=[hypothesis.Phase.generate],
                suppress_health_check=list(hypothesis.HealthCheck),
            )
        )
