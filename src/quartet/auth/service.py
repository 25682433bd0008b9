"""Authentication flows.

The service never commits. Flows that must persist something even when they answer with an
error (a failed login's audit row, a refresh-reuse revocation) or that must not hold a database
connection while bcrypt runs are split into short units of work run by the stores'
`TransactionRunner`; the rest run in the request's own unit of work (`DbSession`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from quartet.audit.trail import record_action
from quartet.auth import errors
from quartet.auth.activity_sessions import ActivitySessions
from quartet.auth.models import AuthSession
from quartet.auth.repository import AuthSessionRepository
from quartet.auth.schemas import RegisterIn, SessionOut, TokenResponse
from quartet.auth.state_repository import AuthStateRepository, TokenState
from quartet.auth.tokens import BearerClaims, Grant, Principal, TokenService
from quartet.core.client import ClientMeta
from quartet.core.clock import utcnow
from quartet.core.domain_events import DomainEvents
from quartet.core.errors import ConflictError, NotFoundError
from quartet.core.security import InvalidTokenError, PasswordHasher, hash_token, new_opaque_token
from quartet.rbac.groups import DEFAULT_GROUP
from quartet.rbac.repository import MembershipRepository, PermissionRepository
from quartet.settings import Settings
from quartet.stores.postgres import TransactionRunner
from quartet.stores.redis import RedisClient
from quartet.users.cache import ProfileCache
from quartet.users.models import User
from quartet.users.repository import Identifier, UserRepository
from quartet.users.schemas import UserPublic
from quartet.verification.links import EmailLinks

_LETTER = re.compile(r"[^\W\d_]")
_DIGIT = re.compile(r"\d")


class AuthService:
    def __init__(
        self,
        settings: Settings,
        hasher: PasswordHasher,
        tokens: TokenService,
        state: AuthStateRepository,
        activity_sessions: ActivitySessions,
        profiles: ProfileCache,
        *,
        domain_events: DomainEvents,
        transactions: TransactionRunner,
        links: EmailLinks,
    ) -> None:
        self.settings = settings
        self.hasher = hasher
        self.tokens = tokens
        self.state = state
        self.activity_sessions = activity_sessions
        self.profiles = profiles
        self.domain_events = domain_events
        self.transactions = transactions
        self.links = links

    # -- passwords -------------------------------------------------------------------------

    def check_policy(self, password: str, *, email: str, username: str | None = None) -> None:
        settings = self.settings
        problems = []
        if len(password) < settings.PASSWORD_MIN_LENGTH:
            problems.append(f"at least {settings.PASSWORD_MIN_LENGTH} characters")
        if len(password) > settings.PASSWORD_MAX_LENGTH:
            problems.append(f"at most {settings.PASSWORD_MAX_LENGTH} characters")
        if not (_LETTER.search(password) and _DIGIT.search(password)):
            problems.append("at least one letter and one digit")
        if password.casefold() in {email.casefold(), (username or "").casefold()}:
            problems.append("not your email or username")
        if problems:
            raise errors.WeakPasswordError("Password must have " + ", ".join(problems))

    # -- registration ----------------------------------------------------------------------

    async def register(self, tx: TransactionRunner, data: RegisterIn, meta: ClientMeta) -> User:
        self.check_policy(data.password, email=str(data.email), username=data.username)
        hashed = await self.hasher.hash(data.password)

        return await tx.run(
            lambda session: self.create_account(
                session,
                User(
                    email=str(data.email),
                    username=data.username,
                    phone=data.phone,
                    full_name=data.full_name,
                    hashed_password=hashed,
                ),
                meta,
            )
        )

    async def create_account(
        self, session: AsyncSession, account: User, meta: ClientMeta, **audit: object
    ) -> User:
        """Insert a new account (409 when its email, username or phone is taken) and, unless its
        email is already verified, queue the verification email in the same transaction."""
        users = UserRepository(session)
        for field in ("email", "username", "phone"):
            value = getattr(account, field)
            if value and await users.is_taken(field, str(value)):
                raise ConflictError(f"That {field} is already registered")
        try:
            user = await users.create(account)
        except IntegrityError as error:  # a concurrent registration won the race
            raise ConflictError("That email, username or phone is already registered") from error
        await MembershipRepository(session).add_by_codename(user.id, DEFAULT_GROUP)
        await self._audit(session, "auth.register", meta, user.id, **audit)
        if not user.is_email_verified:
            await self.links.send_verification(session, user)
        return user

    async def availability(self, db: AsyncSession, field: Identifier, value: str) -> bool:
        return not await UserRepository(db).is_taken(field, value)

    # -- login -----------------------------------------------------------------------------

    async def login(
        self,
        tx: TransactionRunner,
        field: Identifier,
        identifier: str,
        password: str,
        meta: ClientMeta,
    ) -> TokenResponse:
        """Lockout is counted per account, whichever identifier names it (so email, username
        and phone do not each get their own budget), and per identifier when no account has
        it; an unknown identifier costs the same bcrypt time as a wrong password."""
        user = await tx.run(lambda session: UserRepository(session).get_by(field, identifier))
        user_id = user.id if user else None
        lock_key = f"user:{user_id}" if user_id else f"{field}:{identifier.casefold()}"
        locked_for = await self.state.locked_for(lock_key)
        if locked_for:
            await tx.run(
                lambda session: self._audit(
                    session, "auth.login_locked", meta, user_id, identifier_kind=field
                )
            )
            raise errors.AccountLockedError(locked_for)

        valid = await self.hasher.verify(password, user.hashed_password if user else None)
        if valid and user is not None and user.deactivated_at is not None and not user.is_active:
            raise errors.AccountDeactivatedError()
        if not valid or user is None or not user.is_active:
            lock_seconds = self.settings.ACCOUNT_LOCKOUT_DURATION_MINUTES * 60
            locked = await self.state.register_failure(
                lock_key, self.settings.ACCOUNT_LOCKOUT_THRESHOLD, lock_seconds
            )

            async def audit_failure(session: AsyncSession) -> None:
                await self._audit(
                    session, "auth.login_failed", meta, user_id, identifier_kind=field
                )
                if locked:
                    await self._audit(session, "auth.lockout", meta, user_id, identifier_kind=field)

            await tx.run(audit_failure)
            if locked:
                raise errors.AccountLockedError(lock_seconds)
            raise errors.InvalidCredentialsError()

        await self.state.reset_failures(lock_key)
        return await self.start_session(tx, user.id, meta)

    async def start_session(
        self, tx: TransactionRunner, user_id: uuid.UUID, meta: ClientMeta, method: str = "password"
    ) -> TokenResponse:
        """Open a session for an authenticated user and issue its token triple: every way of
        logging in (password, one-time code, sign-up by code, the social-login hand-off) ends
        here; `method` is recorded in the audit row."""
        tokens = await tx.run(lambda session: self._start_session(session, user_id, meta, method))
        await self.profiles.invalidate(user_id)  # last_login_at changed (after the commit)
        await self.activity_sessions.start(user_id, tokens.session_id)
        return tokens

    async def _start_session(
        self, session: AsyncSession, user_id: uuid.UUID, meta: ClientMeta, method: str
    ) -> TokenResponse:
        user = await UserRepository(session).get_locked(user_id)
        refresh_token = new_opaque_token()
        auth_session = await AuthSessionRepository(session).create(
            AuthSession(
                user_id=user.id,
                expires_at=utcnow() + self.tokens.refresh_ttl,
                user_agent=meta.user_agent,
                ip=meta.ip,
                refresh_token_hash=hash_token(refresh_token),
            )
        )
        user.last_login_at = utcnow()
        await self._audit(
            session, "auth.login", meta, user.id, session_id=str(auth_session.id), method=method
        )
        grant = await self._grant(session, user)
        return self._token_response(user, auth_session.id, refresh_token, grant)

    async def _grant(self, session: AsyncSession, user: User) -> Grant:
        """The version and permissions to mint tokens with, read while the user's row is locked
        (so no authorisation change of this user commits meanwhile). The version is the higher
        of PostgreSQL's and Redis's: Redis may be ahead when a change raised it and then did not
        commit, and PostgreSQL catches up so the next change goes past every token minted now."""
        version = max(user.authz_version, await self.state.authz_version(user.id))
        if version != user.authz_version:
            await UserRepository(session).set_authz_version(user.id, version)
        permissions = (
            frozenset()
            if user.is_superuser
            else await PermissionRepository(session).effective_codenames(user.id)
        )
        await self.state.publish_grant(user.id, version, permissions, self._access_seconds)
        return Grant(version, permissions)

    @property
    def _access_seconds(self) -> int:
        return int(self.tokens.access_ttl.total_seconds())

    def _token_response(
        self, user: User, session_id: uuid.UUID, refresh_token: str, grant: Grant
    ) -> TokenResponse:
        issued = self.tokens.issue(user, session_id, grant)
        return TokenResponse(
            access_token=issued.access_token,
            session_token=issued.session_token,
            refresh_token=refresh_token,
            expires_in=issued.expires_in,
            session_id=session_id,
        )

    # -- refresh ---------------------------------------------------------------------------

    async def refresh(
        self,
        tx: TransactionRunner,
        refresh_token: str,
        meta: ClientMeta,
        *,
        session_id: uuid.UUID | None = None,
    ) -> TokenResponse:
        """Rotate: the presented token is spent and its successor issued. Presented again less
        than `REFRESH_REUSE_GRACE_SECONDS` after it was spent, while that successor is still the
        session's current token (tabs refreshing at once, a retry after a lost response), it is
        answered with the same successor. Any other spent token is theft: its whole session is
        revoked (committed before the 401 is sent). `session_id` (what a cookie request's CSRF
        token is bound to) confines the refresh to that session."""
        successor = self.tokens.next_refresh_token(refresh_token)
        result = await tx.run(
            lambda session: self._rotate(
                session, hash_token(refresh_token), successor, meta, session_id
            )
        )
        if result is None:
            raise errors.InvalidRefreshTokenError()
        return result

    async def _rotate(
        self,
        session: AsyncSession,
        old_hash: str,
        successor: str,
        meta: ClientMeta,
        bound_to: uuid.UUID | None,
    ) -> TokenResponse | None:
        """Four statements whichever way it goes: the guarded UPDATE and the spent-token INSERT
        (or, when the UPDATE matched nothing, one SELECT of the spent token with its session),
        then the user and the audit row."""
        sessions = AuthSessionRepository(session)
        successor_hash = hash_token(successor)
        current = await sessions.rotate(
            old_hash, successor_hash, utcnow() + self.tokens.refresh_ttl, session_id=bound_to
        )
        grace: dict[str, object] = {}
        if current is None:
            spent = await sessions.spent(old_hash)
            if spent is None or (bound_to is not None and spent[0].id != bound_to):
                return None
            current, spent_at = spent
            if not self._within_grace(current, successor_hash, spent_at):
                await self._revoke(session, [current.id], "refresh_reuse", meta, current.user_id)
                return None
            grace = {"within_grace": True}
        user = await UserRepository(session).get_locked(current.user_id, shared=True)
        if not user.is_active:
            await self._revoke(session, [current.id], "user_inactive", meta, user.id)
            return None
        idle_logout = self.settings.SESSION_IDLE_LOGOUT
        touched = await self.activity_sessions.touch(user.id, current.id if idle_logout else None)
        if idle_logout and touched is None:
            await self._revoke(session, [current.id], "idle_timeout", meta, user.id)
            return None
        await self._audit(
            session, "auth.refresh", meta, user.id, session_id=str(current.id), **grace
        )
        grant = await self._grant(session, user)
        return self._token_response(user, current.id, successor, grant)

    def _within_grace(self, current: AuthSession, successor_hash: str, spent_at: datetime) -> bool:
        """The spent token is the immediate parent of the live session's current token (not a
        grandparent) and was spent less than the grace window ago."""
        now = utcnow()
        return (
            current.refresh_token_hash == successor_hash
            and current.revoked_at is None
            and current.expires_at > now
            and now - spent_at < timedelta(seconds=self.settings.REFRESH_REUSE_GRACE_SECONDS)
        )

    # -- bearer tokens ---------------------------------------------------------------------

    def bearer_claims(self, token: str) -> BearerClaims:
        """A bearer token's verified claims (signature, registered claims, type, expiry)."""
        try:
            return self.tokens.bearer(token)
        except (InvalidTokenError, ValueError, TypeError, AttributeError, KeyError) as error:
            raise errors.InvalidTokenError() from error

    def queue_token_check(self, pipe: RedisClient, claims: BearerClaims) -> int:
        """The token's state commands on the request's pipeline (see `authenticate`)."""
        return self.state.queue_token_state(
            pipe,
            str(claims.session_id),
            str(claims.user_id),
            self.activity_sessions,
            require_member=self.settings.SESSION_IDLE_LOGOUT,
            permissions_at=claims.version if claims.permissions_cached else None,
        )

    def read_token_check(self, results: Sequence[Any], claims: BearerClaims) -> TokenState:
        return self.state.read_token_state(
            results,
            self.activity_sessions,
            permissions_at=claims.version if claims.permissions_cached else None,
        )

    async def authenticate(
        self, token: str, checked: tuple[BearerClaims, TokenState] | None = None
    ) -> Principal:
        """Verify a bearer token, its revocation state and its authorization version, and
        resolve its permissions: a session token carries them, an access token's come from
        Redis in the same round trip. No PostgreSQL query, except to refill a permission set
        Redis lost. Fails closed: a Redis error propagates as 503, never as acceptance.
        `checked`: the claims and state of this very token, read in the request's one Redis
        round trip (`quartet.auth.request_state`)."""
        if checked is None:
            claims = self.bearer_claims(token)
            async with self.state.redis.pipeline(transaction=False) as pipe:
                self.queue_token_check(pipe, claims)
                state = self.read_token_check(await pipe.execute(), claims)
        else:
            claims, state = checked
        if state.revoked or claims.version < state.authz_version:
            raise errors.InvalidTokenError()
        if self.settings.SESSION_IDLE_LOGOUT and not state.active:
            raise errors.SessionIdleTimeoutError()
        permissions = claims.carried
        if claims.permissions_cached:
            permissions = (
                state.permissions
                if state.permissions is not None
                else await self._refill_permissions(claims.user_id, claims.version)
            )
        return Principal(
            claims.user_id, claims.session_id, claims.token_type, claims.roles, permissions
        )

    async def _refill_permissions(self, user_id: uuid.UUID, version: int) -> frozenset[str]:
        """An access token's permission set Redis no longer has: read again (the version and
        the set from one snapshot) and cached again, unless the token is outdated meanwhile."""

        async def load(session: AsyncSession) -> tuple[int, frozenset[str]] | None:
            return await PermissionRepository(session).versioned_codenames(user_id)

        found = await self.transactions.run(load)
        if found is None or found[0] > version:
            raise errors.InvalidTokenError()
        permissions = found[1]
        await self.state.publish_grant(user_id, version, permissions, self._access_seconds)
        return permissions

    # -- sessions and logout ---------------------------------------------------------------

    async def me(self, db: AsyncSession, principal: Principal) -> UserPublic:
        """Served from the profile cache (invalidated on every write to the user row)."""
        user = await self.profiles.get(db, principal.user_id)
        if user is None or not user.is_active:
            raise errors.InvalidTokenError()
        return user

    async def sessions(self, db: AsyncSession, principal: Principal) -> list[SessionOut]:
        active = await AuthSessionRepository(db).active_for_user(principal.user_id)
        return [
            SessionOut.model_validate(auth_session).model_copy(
                update={"current": auth_session.id == principal.session_id}
            )
            for auth_session in active
        ]

    async def logout(self, db: AsyncSession, principal: Principal, meta: ClientMeta) -> None:
        await self._revoke(db, [principal.session_id], "logout", meta, principal.user_id)

    async def logout_everywhere(
        self, db: AsyncSession, principal: Principal, meta: ClientMeta
    ) -> int:
        active = await AuthSessionRepository(db).active_for_user(principal.user_id)
        ids = [auth_session.id for auth_session in active] or [principal.session_id]
        return len(await self._revoke(db, ids, "logout_everywhere", meta, principal.user_id))

    async def end_sessions(
        self,
        db: AsyncSession,
        user_id: uuid.UUID,
        meta: ClientMeta,
        reason: str,
        *,
        keep: uuid.UUID | None = None,
    ) -> int:
        """Revoke every active session of the user but `keep` (a password reset or change)."""
        active = await AuthSessionRepository(db).active_for_user(user_id)
        ids = [auth_session.id for auth_session in active if auth_session.id != keep]
        return len(await self._revoke(db, ids, reason, meta, user_id)) if ids else 0

    async def revoke_session(
        self, db: AsyncSession, principal: Principal, session_id: uuid.UUID, meta: ClientMeta
    ) -> None:
        """Only the caller's own sessions; another user's is indistinguishable from none."""
        target = await AuthSessionRepository(db).get_or_none(session_id)
        if target is None or target.user_id != principal.user_id or target.revoked_at:
            raise NotFoundError("Session not found")
        await self._revoke(db, [session_id], "revoked_by_user", meta, principal.user_id)

    async def _revoke(
        self,
        db: AsyncSession,
        ids: Sequence[uuid.UUID],
        reason: str,
        meta: ClientMeta,
        user_id: uuid.UUID,
    ) -> list[uuid.UUID]:
        """Redis first, so the tokens stop working even if the database write fails after."""
        await self.state.revoke_sessions(user_id, ids, self.tokens.longest_bearer_seconds)
        revoked = await AuthSessionRepository(db).revoke(ids, reason)
        await self._audit(db, f"auth.{reason}", meta, user_id, sessions=[str(i) for i in ids])
        return revoked

    async def _audit(
        self,
        db: AsyncSession,
        action: str,
        meta: ClientMeta,
        user_id: uuid.UUID | None = None,
        **data: object,
    ) -> None:
        await record_action(db, self.domain_events, action, meta, user_id, **data)
