"""An account with traces in all four stores, and the store-by-store check that none is left."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import timedelta

import httpx
from sqlalchemy import func, select
from sqlmodel import col

from quartet.audit.models import AuditLog
from quartet.auth.models import AuthSession
from quartet.auth.state_repository import AuthStateRepository
from quartet.core.clock import utcnow
from quartet.erasure.models import AccountErasure
from quartet.erasure.repository import ANONYMOUS_CUSTOMER_ID, CustomerOrders
from quartet.events.models import Event
from quartet.events.repository import EventRepository
from quartet.posts.models import Like, Post
from quartet.rbac.models import UserGroup
from quartet.sessions.repository import ActivitySessionRepository
from quartet.stores.cache import Cache
from quartet.stores.registry import Stores
from quartet.users.cache import ProfileCache
from quartet.users.models import User
from quartet.verification.codes import CodeRepository
from quartet.verification.schemas import CodePurpose
from tests.accounts import SignedIn, sign_up, sign_up_superuser, unique


@dataclass(frozen=True)
class Traces:
    account: SignedIn
    order_id: str
    events: list[Event]


async def user_events(stores: Stores, user_id: uuid.UUID) -> list[Event]:
    now = utcnow()
    pages = EventRepository(stores.cassandra).pages_by_user(str(user_id), None)
    found, _ = await pages(now.date(), now - timedelta(days=1), now, 500, None)
    return found


async def account_with_traces(http: httpx.AsyncClient, api: str, stores: Stores) -> Traces:
    """Posts and likes, an order, events, an activity session, a cached profile, a lockout
    counter and a one-time code: something in every store."""
    admin = await sign_up_superuser(http, api, stores)
    account = await sign_up(http, api)
    post = await http.post(f"{api}/posts", json={"content": "c"}, headers=account.headers)
    assert post.status_code == 201, post.text
    liked = await http.post(f"{api}/posts/{post.json()['id']}/like", headers=account.headers)
    assert liked.is_success
    product = await http.post(
        f"{api}/products/",
        json={"name": unique("p"), "category": unique("c"), "price": "3.50", "stock": 5},
        headers=admin.headers,
    )
    assert product.status_code == 201, product.text
    order = await http.post(
        f"{api}/orders/",
        json={"items": [{"product_id": product.json()["id"], "quantity": 2}]},
        headers=account.headers,
    )
    assert order.status_code == 201, order.text
    assert (await http.get(f"{api}/settings/profile", headers=account.headers)).is_success
    assert (await http.get(f"{api}/auth/me", headers=account.headers)).is_success
    wrong = await http.post(
        f"{api}/auth/login", json={"email": account.email, "password": "wrong-password-1"}
    )
    assert wrong.status_code == 401
    sent = await http.post(
        f"{api}/auth/send-one-time-password",
        json={"channel": "email", "identifier": account.email, "purpose": "verify_contact"},
        headers=account.headers,
    )
    assert sent.status_code == 202, sent.text
    for _ in range(100):  # the activity writer writes after each commit
        events = await user_events(stores, account.id)
        if len(events) >= 2:
            break
        await asyncio.sleep(0.1)
    assert events, "the account's events never reached Cassandra"
    return Traces(account, order.json()["id"], events)


def redis_keys(stores: Stores, account: SignedIn) -> list[str]:
    prefix = stores.settings.REDIS_KEY_PREFIX
    cache = Cache.from_settings(stores.redis, stores.settings)
    state = AuthStateRepository(stores.redis, prefix)
    purposes = [p.value for p in CodePurpose]
    return [
        ActivitySessionRepository.from_settings(stores.redis, stores.settings).key(account.id),
        *(cache.key(n) for n in ProfileCache.names(account.id)),
        *state.lockout_keys(f"user:{account.id}"),
        *CodeRepository(stores.redis, prefix).identifier_keys(account.email, purposes),
    ]


async def assert_redis_has_traces(stores: Stores, account: SignedIn) -> None:
    present = await stores.redis.exists(*redis_keys(stores, account))
    assert present >= 3  # activity session, cached profiles, lockout counter, the code


async def assert_no_leftovers(stores: Stores, traces: Traces, erasure_id: uuid.UUID) -> None:
    account = traces.account
    # PostgreSQL
    async with stores.sessionmaker() as session:
        for model, column in (
            (User, User.id),
            (AuthSession, AuthSession.user_id),
            (Post, Post.author_id),
            (Like, Like.user_id),
            (UserGroup, UserGroup.user_id),
            (AuditLog, AuditLog.user_id),
        ):
            count = await session.scalar(
                select(func.count()).select_from(model).where(col(column) == account.id)
            )
            assert count == 0, f"{model.__name__} rows left"
        anonymised = await session.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(col(AuditLog.data)["erasure_id"].astext == str(erasure_id))
        )
        assert anonymised
        assert anonymised > 0
        erasure = await session.get(AccountErasure, erasure_id)
        assert erasure is not None
        assert erasure.completed_at is not None
        assert (erasure.user_id, erasure.identifiers, erasure.pending) == (None, {}, [])
    # Redis: only the authorisation version stays, expiring
    assert await stores.redis.exists(*redis_keys(stores, account)) == 0
    authz = f"{stores.settings.REDIS_KEY_PREFIX}auth:authz:{{{account.id}}}"
    assert await stores.redis.ttl(authz) > 0
    # MongoDB: the order stays, anonymous
    orders = CustomerOrders(stores.mongo)
    assert await orders.count(account.id) == 0
    kept = await orders.orders.get(uuid.UUID(traces.order_id))
    assert (kept.customer_id, kept.customer_name) == (ANONYMOUS_CUSTOMER_ID, "deleted account")
    # Cassandra: by user, by id and by type
    events = EventRepository(stores.cassandra)
    assert await user_events(stores, account.id) == []
    for event in traces.events:
        assert await events.get(event.event_id) is None
        now = utcnow()
        same_type, _ = await events.pages_by_type(event.event_type)(
            event.day, now - timedelta(days=1), now, 1000, None
        )
        assert event.event_id not in {e.event_id for e in same_type}
