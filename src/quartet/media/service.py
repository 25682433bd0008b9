"""Media rules. An upload is staged on disk, sniffed, (for images) decoded and re-encoded, written
to the object store, and only then its row committed; if that commit fails the object is deleted
again, and what a crash leaves behind (an object without a row, a staging file) the periodic sweep
removes. Only the owner, or a holder of `media.moderate`, sees or deletes an item; others get 404.
Stateless per request; rows are written through the TransactionRunner, never committed here by
hand."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import KW_ONLY, dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from quartet.auth.errors import InvalidTokenError
from quartet.auth.tokens import Principal
from quartet.core.clock import utcnow
from quartet.core.deadline import fresh_deadline
from quartet.core.errors import UnauthorizedError
from quartet.core.ids import uuid7
from quartet.core.pagination import CursorPage
from quartet.media.errors import InvalidLinkError, InvalidUploadError, MediaNotFoundError
from quartet.media.fetch import UrlFetcher
from quartet.media.filenames import clean_filename, content_disposition
from quartet.media.images import ImageProcessor
from quartet.media.kinds import ALLOWED, MediaType, sniff
from quartet.media.models import Media
from quartet.media.multipart import read_file_part
from quartet.media.repository import MediaRepository
from quartet.media.signing import LinkSigner
from quartet.media.staging import StagedFile, file_digest, remove_stale
from quartet.media.storage import ObjectStorage
from quartet.media.storage.base import StoredObject, object_key
from quartet.stores.errors import MissingReferenceError
from quartet.stores.postgres import CommitOutcomeUnknownError, TransactionRunner

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Link:
    url: str
    expires_at: datetime


@dataclass(frozen=True)
class LocalContent:
    """What the app streams itself (local backend)."""

    media: Media
    stored: StoredObject
    disposition: str


def _disposition(media: Media) -> str:
    media_type = ALLOWED[media.content_type]
    return content_disposition(
        media_type.inline, media.filename, f"{media.id}.{media_type.extension}"
    )


async def _existing_keys(keys: Sequence[str], session: AsyncSession) -> set[str]:
    return await MediaRepository(session).existing_keys(keys)


def _visible(media: Media | None, caller: Principal, moderator: bool) -> Media:
    """The item if the caller owns it or moderates media; 404 otherwise (existence not told)."""
    if media is None or (media.owner_id != caller.user_id and not moderator):
        raise MediaNotFoundError()
    return media


@dataclass
class MediaService:
    storage: ObjectStorage
    images: ImageProcessor
    signer: LinkSigner
    _: KW_ONLY
    max_bytes: int
    orphan_grace_s: int
    store_budget_s: float
    """The store deadline's budget an upload's store work gets once its bytes are in."""

    def _staging(self) -> StagedFile:
        return StagedFile(self.storage.staging_dir, self.max_bytes)

    async def upload(
        self,
        tx: TransactionRunner,
        owner: Principal,
        body: AsyncIterator[bytes],
        content_type: str,
    ) -> Media:
        """A multipart upload, streamed from the request body."""
        async with self._staging() as staged:
            filename = await read_file_part(body, content_type, staged)
            # Receiving a large body may take longer than the request's store deadline: the
            # store work starts its own clock once the bytes are in.
            with fresh_deadline(self.store_budget_s):
                return await self._store(tx, owner, staged, filename=filename, source_url=None)

    async def upload_from_url(
        self, tx: TransactionRunner, owner: Principal, url: str, fetcher: UrlFetcher
    ) -> Media:
        async with self._staging() as staged:
            final_url = await fetcher.fetch(url, staged)
            with fresh_deadline(self.store_budget_s):
                return await self._store(tx, owner, staged, filename=final_url.name, source_url=url)

    async def _store(
        self,
        tx: TransactionRunner,
        owner: Principal,
        staged: StagedFile,
        *,
        filename: str | None,
        source_url: str | None,
    ) -> Media:
        sha256 = await staged.finish()
        size = staged.size
        if size == 0:
            raise InvalidUploadError("The file is empty")
        media_type: MediaType = await asyncio.to_thread(sniff, staged.path)
        width = height = None
        if media_type.pillow_format is not None:
            facts = await self.images.sanitise(staged.path, media_type)
            width, height = facts.width, facts.height
            size, sha256 = await asyncio.to_thread(file_digest, staged.path)
        media_id = uuid7()
        draft = Media(
            id=media_id,
            owner_id=owner.user_id,
            storage_key=object_key(media_id),
            kind=media_type.kind,
            content_type=media_type.content_type,
            size=size,
            sha256=sha256,
            width=width,
            height=height,
            filename=clean_filename(filename),
            source_url=source_url,
        )
        await self.storage.put(
            draft.storage_key,
            staged.path,
            content_type=draft.content_type,
            disposition=_disposition(draft),
        )
        try:
            # A fresh instance per attempt: the runner may re-run the work in a new session.
            return await tx.run(
                lambda session: MediaRepository(session).add(Media(**draft.model_dump()))
            )
        except MissingReferenceError as error:  # the owner's account was deleted meanwhile
            await self._discard(draft.storage_key)
            raise InvalidTokenError() from error
        except CommitOutcomeUnknownError:
            raise  # the row may have landed: keep the object, the sweep decides later
        except Exception:
            await self._discard(draft.storage_key)
            raise

    async def _discard(self, key: str) -> None:
        """Delete an object whose row is gone or never came; a failure leaves it to the sweep."""
        try:
            await self.storage.delete(key)
        except Exception:
            logger.warning("could not delete media object %s; the orphan sweep will", key)

    async def page(
        self, db: AsyncSession, owner: Principal, *, limit: int, cursor: str | None
    ) -> CursorPage[Media]:
        return await MediaRepository(db).page(owner.user_id, limit=limit, cursor=cursor)

    async def get(
        self, db: AsyncSession, media_id: uuid.UUID, caller: Principal, moderator: bool
    ) -> Media:
        return _visible(await MediaRepository(db).get_or_none(media_id), caller, moderator)

    async def delete(
        self, tx: TransactionRunner, media_id: uuid.UUID, caller: Principal, moderator: bool
    ) -> None:
        """Commit the row's deletion, then delete the object (a row never outlives its object)."""

        async def work(session: AsyncSession) -> str:
            repo = MediaRepository(session)
            media = _visible(await repo.get_or_none(media_id), caller, moderator)
            if await repo.remove(media.id) is None:
                raise MediaNotFoundError()
            return media.storage_key

        await self._discard(await tx.run(work))

    async def link(self, media: Media, content_url: str) -> Link:
        """A signed, expiring URL to the content: the store's own presigned URL when it has
        one, else the app's content route with an HMAC signature."""
        now = utcnow()
        url = await self._presigned(media, _disposition(media))
        if url is None:
            expires, signature = self.signer.sign(media.id, now.timestamp())
            url = f"{content_url}?expires={expires}&signature={signature}"
        return Link(url=url, expires_at=now + timedelta(seconds=self.signer.ttl_s))

    async def _presigned(self, media: Media, disposition: str) -> str | None:
        """The store's own expiring URL to the content, if it has such URLs (S3)."""
        return await self.storage.link(
            media.storage_key,
            content_type=media.content_type,
            disposition=disposition,
            expires_s=self.signer.ttl_s,
        )

    async def content(
        self,
        db: AsyncSession,
        media_id: uuid.UUID,
        caller: Principal | None,
        moderator: bool,
        signed: tuple[int, str] | None,
    ) -> LocalContent | str:
        """Who may read: a valid signed link, or the owner/moderator. Returns what the app
        streams (local backend) or the presigned URL to redirect to (S3)."""
        media = await MediaRepository(db).get_or_none(media_id)
        if signed is not None:
            if media is None or not self.signer.verify(media_id, *signed, utcnow().timestamp()):
                raise InvalidLinkError()
        elif caller is None:
            raise UnauthorizedError()
        else:
            media = _visible(media, caller, moderator)
        assert media is not None
        disposition = _disposition(media)
        url = await self._presigned(media, disposition)
        if url is not None:
            return url
        stored = await self.storage.stat(media.storage_key)
        if stored is None:
            logger.error("media %s has a row but no object %s", media.id, media.storage_key)
            raise MediaNotFoundError()
        return LocalContent(media, stored, disposition)

    def read(self, content: LocalContent, first: int, last: int) -> AsyncIterator[bytes]:
        return self.storage.read(content.media.storage_key, first, last)

    async def sweep(self, tx: TransactionRunner) -> int:
        """Delete objects no row names (older than the grace period, so an upload between its
        object write and its commit is never touched) and stale staging files."""
        cutoff = utcnow() - timedelta(seconds=self.orphan_grace_s)
        removed = 0
        async for keys in self.storage.keys_older_than(cutoff):
            known = await tx.run(partial(_existing_keys, keys))
            for key in keys:
                if key not in known:
                    await self.storage.delete(key)
                    removed += 1
        await asyncio.to_thread(remove_stale, self.storage.staging_dir, self.orphan_grace_s)
        return removed
