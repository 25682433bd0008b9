from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from quartet.account.service import ContactChanges
from quartet.auth.dependencies import AuthServiceDep
from quartet.verification.dependencies import OneTimeCodesDep


async def get_contact_changes(
    request: Request, auth: AuthServiceDep, codes: OneTimeCodesDep
) -> ContactChanges:
    return ContactChanges(auth, codes, request.app.state.notifier)


ContactChangesDep = Annotated[ContactChanges, Depends(get_contact_changes)]
