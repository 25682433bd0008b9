"""Per-request services of the lifecycle flows (stateless; built over the app's shared state)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from quartet.auth.dependencies import AuthServiceDep
from quartet.stores.registry import Stores
from quartet.verification.code_flows import CodeFlows
from quartet.verification.codes import CodeRepository
from quartet.verification.otp import OneTimeCodes
from quartet.verification.passwords import Passwords
from quartet.verification.recovery import LinkFlows


def _code_repository(request: Request) -> CodeRepository:
    stores: Stores = request.app.state.stores
    return CodeRepository(stores.redis, stores.settings.REDIS_KEY_PREFIX)


async def get_one_time_codes(request: Request) -> OneTimeCodes:
    return OneTimeCodes(
        request.app.state.settings,
        _code_repository(request),
        request.app.state.notifier,
        request.app.state.domain_events,
    )


OneTimeCodesDep = Annotated[OneTimeCodes, Depends(get_one_time_codes)]


async def get_passwords(request: Request, auth: AuthServiceDep) -> Passwords:
    return Passwords(auth, request.app.state.notifier)


PasswordsDep = Annotated[Passwords, Depends(get_passwords)]


async def get_link_flows(
    request: Request, auth: AuthServiceDep, passwords: PasswordsDep
) -> LinkFlows:
    return LinkFlows(auth, passwords, _code_repository(request))


async def get_code_flows(
    auth: AuthServiceDep, codes: OneTimeCodesDep, passwords: PasswordsDep
) -> CodeFlows:
    return CodeFlows(auth, codes, passwords)


LinkFlowsDep = Annotated[LinkFlows, Depends(get_link_flows)]
CodeFlowsDep = Annotated[CodeFlows, Depends(get_code_flows)]
