from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from quartet.account.closure import AccountClosure
from quartet.account.profile import ProfileService
from quartet.account.service import ContactChanges
from quartet.auth.dependencies import AuthServiceDep
from quartet.verification.dependencies import OneTimeCodesDep


async def get_contact_changes(
    request: Request, auth: AuthServiceDep, codes: OneTimeCodesDep
) -> ContactChanges:
    return ContactChanges(auth, codes, request.app.state.notifier)


ContactChangesDep = Annotated[ContactChanges, Depends(get_contact_changes)]


async def get_profiles(request: Request) -> ProfileService:
    return ProfileService(
        request.app.state.settings,
        request.app.state.stores.transactions,
        request.app.state.cache,
        request.app.state.activity,
    )


async def get_account_closure(
    request: Request, auth: AuthServiceDep, codes: OneTimeCodesDep
) -> AccountClosure:
    return AccountClosure(auth, codes, request.app.state.erasure)


ProfilesDep = Annotated[ProfileService, Depends(get_profiles)]
AccountClosureDep = Annotated[AccountClosure, Depends(get_account_closure)]
