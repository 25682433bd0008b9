"""The erasure service: one per app (its worker resumes what a request began)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from quartet.erasure.service import ErasureService


async def get_erasure_service(request: Request) -> ErasureService:
    service: ErasureService = request.app.state.erasure
    return service


ErasureServiceDep = Annotated[ErasureService, Depends(get_erasure_service)]
