"""`Annotated` aliases for the media routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from quartet.auth.dependencies import CurrentUser, OptionalUser
from quartet.auth.tokens import Principal
from quartet.media.fetch import UrlFetcher
from quartet.media.permissions import MEDIA_MODERATE
from quartet.media.runtime import MediaRuntime
from quartet.media.service import MediaService


async def get_media_runtime(request: Request) -> MediaRuntime:
    runtime: MediaRuntime = request.app.state.media
    return runtime


MediaRuntimeDep = Annotated[MediaRuntime, Depends(get_media_runtime)]


async def get_media_service(runtime: MediaRuntimeDep) -> MediaService:
    return runtime.service


async def get_url_fetcher(runtime: MediaRuntimeDep) -> UrlFetcher:
    """The SSRF-guarded fetcher (tests override this to resolve names without DNS)."""
    return runtime.fetcher


def _moderates(principal: Principal | None) -> bool:
    """Holds `media.moderate`: may read and delete anyone's media (owners need nothing)."""
    return principal is not None and principal.has(MEDIA_MODERATE)


async def can_moderate(user: CurrentUser) -> bool:
    return _moderates(user)


async def can_moderate_optional(user: OptionalUser) -> bool:
    return _moderates(user)


MediaServiceDep = Annotated[MediaService, Depends(get_media_service)]
UrlFetcherDep = Annotated[UrlFetcher, Depends(get_url_fetcher)]
Moderator = Annotated[bool, Depends(can_moderate)]
OptionalModerator = Annotated[bool, Depends(can_moderate_optional)]
