"""Foundations for MongoDB repositories: collection specs (validator and indexes) applied
idempotently, a base repository with the same verbs as `PostgresRepository`, money as Decimal128,
and query plans read from explain().

Documents use UUIDv7 `_id`s (standard BSON UUIDs, so `_id` order is creation order). Dates are
stored with millisecond precision, so `mongo_time` truncates before writing and what an API
answers at creation equals what it reads back later.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, Generic, TypeVar

from bson.codec_options import CodecOptions, TypeCodec, TypeRegistry
from bson.decimal128 import Decimal128
from pydantic import BaseModel, ConfigDict, Field
from pymongo import IndexModel, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import OperationFailure

from quartet.core.ids import uuid7
from quartet.core.pagination import UUID_KEYS, CursorPage, keyset_page
from quartet.stores.errors import RecordNotFoundError
from quartet.stores.mongo import MongoDatabase, MongoDocument

MongoSession = AsyncClientSession
"""A session carrying a multi-document transaction (see `mongo_transactions`)."""

NAMESPACE_EXISTS = 48


class DecimalCodec(TypeCodec):
    """Python `Decimal` <-> BSON Decimal128, so money never passes through a float."""

    python_type = Decimal
    bson_type = Decimal128

    def transform_python(self, value: Decimal) -> Decimal128:
        return Decimal128(value)

    def transform_bson(self, value: Decimal128) -> Decimal:
        return value.to_decimal()


def _with_decimals(options: CodecOptions[MongoDocument]) -> CodecOptions[MongoDocument]:
    return options.with_options(type_registry=TypeRegistry([DecimalCodec()]))


@dataclass(frozen=True)
class IndexSpec:
    name: str
    keys: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class CollectionSpec:
    """What the database itself enforces for a collection: a validator and indexes."""

    name: str
    validator: Mapping[str, Any]
    indexes: tuple[IndexSpec, ...]


async def apply_collection_spec(db: MongoDatabase, spec: CollectionSpec) -> None:
    """Create the collection with its validator (or update the validator of an existing one,
    which also settles a race between two starting processes), then its indexes. Idempotent.
    Commands are encoded with `db`'s codec options (PyMongo's default cannot encode Decimal)."""
    db = db.with_options(codec_options=_with_decimals(db.codec_options))
    validation = {
        "validator": dict(spec.validator),
        "validationLevel": "strict",
        "validationAction": "error",
    }
    try:
        await db.command({"create": spec.name, **validation}, codec_options=db.codec_options)
    except OperationFailure as error:
        if error.code != NAMESPACE_EXISTS:
            raise
        await db.command({"collMod": spec.name, **validation}, codec_options=db.codec_options)
    if spec.indexes:
        await db[spec.name].create_indexes(
            [IndexModel(list(index.keys), name=index.name) for index in spec.indexes]
        )


@dataclass(frozen=True)
class QueryPlan:
    """The winning plan's stages (outermost first) and the indexes it scans."""

    stages: tuple[str, ...]
    indexes: tuple[str, ...]

    @property
    def index_scan(self) -> bool:
        return "IXSCAN" in self.stages


def _winning_plans(node: Any) -> Iterator[Mapping[str, Any]]:
    """Every `winningPlan` in an explain answer: mongod puts a pipeline's under `queryPlanner`
    or under its first stage's `$cursor`; SecantusDB answers both ways at once."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "winningPlan" and isinstance(value, Mapping):
                yield value
            else:
                yield from _winning_plans(value)
    elif isinstance(node, list):
        for item in node:
            yield from _winning_plans(item)


def query_plan(explain: Mapping[str, Any]) -> QueryPlan:
    stages: list[str] = []
    indexes: list[str] = []
    for plan in _winning_plans(explain):
        stage: Any = plan
        while isinstance(stage, Mapping):
            stages.append(str(stage.get("stage")))
            if "indexName" in stage:
                indexes.append(str(stage["indexName"]))
            stage = stage.get("inputStage")
        if stages:
            break
    return QueryPlan(tuple(stages), tuple(indexes))


class MongoModel(BaseModel):
    """Base of every stored document: a UUIDv7 `_id`, exposed as `id`."""

    model_config = ConfigDict(populate_by_name=True)

    id: uuid.UUID = Field(default_factory=uuid7, alias="_id")

    def to_document(self) -> MongoDocument:
        return self.model_dump(by_alias=True)


D = TypeVar("D", bound=MongoModel)


class MongoRepository(Generic[D]):
    """get / get_or_none / insert / insert_many / update / paginate / find / aggregate over one
    collection, as `model` objects. Methods that write take an optional transaction session."""

    spec: ClassVar[CollectionSpec]
    model: type[D]

    def __init__(self, db: MongoDatabase) -> None:
        self.db = db.with_options(codec_options=_with_decimals(db.codec_options))
        self.collection: AsyncCollection[MongoDocument] = self.db[self.spec.name]

    def _load(self, document: MongoDocument | None) -> D | None:
        return None if document is None else self.model.model_validate(document)

    async def get_or_none(self, id_: uuid.UUID, session: MongoSession | None = None) -> D | None:
        return self._load(await self.collection.find_one({"_id": id_}, session=session))

    async def get(self, id_: uuid.UUID, session: MongoSession | None = None) -> D:
        found = await self.get_or_none(id_, session)
        if found is None:
            raise RecordNotFoundError(f"{self.model.__name__} {id_} not found")
        return found

    async def insert(self, obj: D, session: MongoSession | None = None) -> None:
        await self.collection.insert_one(obj.to_document(), session=session)

    async def insert_many(self, objs: Sequence[D], session: MongoSession | None = None) -> None:
        documents = [obj.to_document() for obj in objs]
        await self.collection.insert_many(documents, ordered=True, session=session)

    async def delete_ids(self, ids: Sequence[uuid.UUID]) -> int:
        result = await self.collection.delete_many({"_id": {"$in": list(ids)}})
        return result.deleted_count

    async def update(
        self,
        filter_: Mapping[str, Any],
        update: Mapping[str, Any],
        session: MongoSession | None = None,
    ) -> D | None:
        """Apply `update` to the one document matching `filter_` (a guard in the filter makes
        the check and the write one atomic step); the document after it, or None."""
        document = await self.collection.find_one_and_update(
            dict(filter_), dict(update), return_document=ReturnDocument.AFTER, session=session
        )
        return self._load(document)

    async def paginate(
        self, filter_: Mapping[str, Any], *, limit: int, cursor: str | None, hint: str
    ) -> CursorPage[D]:
        """The documents matching `filter_` newest first by UUIDv7 `_id`, `limit` a page."""

        async def fetch(before: uuid.UUID | None, count: int) -> list[D]:
            found = self.collection.find(self._page_filter(filter_, before))
            documents = await found.sort("_id", -1).hint(hint).limit(count).to_list()
            return [self.model.model_validate(document) for document in documents]

        return await keyset_page(
            fetch, limit=limit, cursor=cursor, keys=UUID_KEYS, key_of=lambda doc: doc.id
        )

    async def explain_page(self, filter_: Mapping[str, Any], *, hint: str) -> QueryPlan:
        """The plan of a first page (later pages add an `_id` bound to the same scan)."""
        cursor = self.collection.find(self._page_filter(filter_, None))
        return query_plan(await cursor.sort("_id", -1).hint(hint).limit(1).explain())

    @staticmethod
    def _page_filter(filter_: Mapping[str, Any], before: uuid.UUID | None) -> dict[str, Any]:
        return {**filter_, "_id": {"$lt": before}} if before is not None else dict(filter_)

    async def find(
        self,
        filter_: Mapping[str, Any],
        *,
        sort: Sequence[tuple[str, int]],
        limit: int,
        hint: str,
    ) -> list[D]:
        cursor = self.collection.find(dict(filter_)).sort(list(sort)).hint(hint).limit(limit)
        return [self.model.model_validate(document) for document in await cursor.to_list()]

    async def explain_find(
        self, filter_: Mapping[str, Any], *, sort: Sequence[tuple[str, int]], hint: str
    ) -> QueryPlan:
        cursor = self.collection.find(dict(filter_)).sort(list(sort)).hint(hint).limit(1)
        return query_plan(await cursor.explain())

    async def aggregate(self, pipeline: Sequence[Mapping[str, Any]]) -> list[MongoDocument]:
        return await (await self.collection.aggregate(list(pipeline))).to_list()

    async def explain_aggregate(self, pipeline: Sequence[Mapping[str, Any]]) -> QueryPlan:
        command = {"aggregate": self.spec.name, "pipeline": list(pipeline), "cursor": {}}
        explain = await self.db.command(
            "explain", command, verbosity="queryPlanner", codec_options=self.db.codec_options
        )
        return query_plan(explain)
