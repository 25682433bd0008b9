"""Social login: start (state + PKCE + nonce bound to the browser), finish (verify, find, link
or create the account, one-time hand-off code), exchange the code for the `/login` tokens,
and the caller's linked identities.

Provider calls happen outside any transaction; account writes run in one short unit of work
(`TransactionRunner`) that has committed before the hand-off code exists.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from quartet.audit.trail import record_action
from quartet.auth.schemas import TokenResponse
from quartet.auth.service import AuthService
from quartet.auth.tokens import Principal
from quartet.core.client import ClientMeta
from quartet.core.errors import ConflictError, NotFoundError
from quartet.core.security import hash_token, new_opaque_token
from quartet.oauth import errors
from quartet.oauth.errors import OAuthFlowError
from quartet.oauth.models import OAuthIdentity
from quartet.oauth.providers import AuthorizationRequest, ProviderProfile, ProviderRegistry
from quartet.oauth.redirects import default_landing, resolve_redirect, with_query
from quartet.oauth.repository import OAuthIdentityRepository
from quartet.oauth.schemas import IdentityOut, ProviderOut
from quartet.oauth.state import OAuthStateRepository, PendingLogin
from quartet.settings import Settings
from quartet.stores.postgres import TransactionRunner
from quartet.users.models import User
from quartet.users.repository import UserRepository


@dataclass(frozen=True)
class Redirect:
    """Where to send the browser; `browser_secret` goes into the binding cookie."""

    url: str
    browser_secret: str | None = None


@dataclass(frozen=True)
class CallbackParams:
    code: str | None
    state: str | None
    error: str | None
    issuer: str | None


@dataclass(frozen=True)
class OAuthService:
    settings: Settings
    providers: ProviderRegistry
    state: OAuthStateRepository
    auth: AuthService

    def list_providers(self) -> list[ProviderOut]:
        prefix = self.settings.API_V1_STR
        return [
            ProviderOut(
                name=p.name,
                display_name=p.display_name,
                initiate_url=f"{prefix}/oauth/{p.name}/initiate",
            )
            for p in self.providers.configured()
        ]

    async def initiate(self, name: str, redirect_to: str | None, callback_url: str) -> Redirect:
        """The provider's authorization URL, with the attempt kept in Redis (single use,
        OAUTH_STATE_TTL_SECONDS) under the hash of a secret only this browser's cookie holds.
        A provider that cannot be reached sends the browser back to the SPA with an error."""
        provider = self.providers.get(name)
        landing = resolve_redirect(redirect_to, self.settings)
        request = AuthorizationRequest(
            state=new_opaque_token(),
            code_verifier=secrets.token_urlsafe(64),  # 86 characters (RFC 7636: 43 to 128)
            nonce=new_opaque_token() if provider.uses_nonce else None,
            redirect_uri=callback_url,
        )
        try:
            url = await provider.authorization_url(request)
        except OAuthFlowError as error:
            return Redirect(with_query(landing, error=error.code))
        browser_secret = new_opaque_token()
        pending = PendingLogin(
            provider=name,
            browser_hash=hash_token(browser_secret),
            code_verifier=request.code_verifier,
            nonce=request.nonce,
            redirect_uri=callback_url,
            redirect_to=landing,
        )
        await self.state.save_pending(request.state, pending, self.settings.OAUTH_STATE_TTL_SECONDS)
        return Redirect(url, browser_secret)

    async def callback(
        self,
        tx: TransactionRunner,
        name: str,
        params: CallbackParams,
        browser_secret: str | None,
        meta: ClientMeta,
    ) -> str:
        """The SPA URL to send the browser to: `?code=<one-time code>` or `?error=<code>`."""
        pending = await self.state.take_pending(params.state) if params.state else None
        if pending is None:  # unknown, expired or already used: login CSRF or a replay
            return with_query(default_landing(self.settings), error=errors.INVALID_STATE)
        try:
            user_id = await self._finish(tx, name, params, pending, browser_secret, meta)
        except OAuthFlowError as error:
            return with_query(pending.redirect_to, error=error.code)
        code = new_opaque_token()
        await self.state.save_handoff(code, user_id, self.settings.OAUTH_HANDOFF_TTL_SECONDS)
        return with_query(pending.redirect_to, code=code)

    async def _finish(
        self,
        tx: TransactionRunner,
        name: str,
        params: CallbackParams,
        pending: PendingLogin,
        browser_secret: str | None,
        meta: ClientMeta,
    ) -> uuid.UUID:
        bound = browser_secret is not None and hmac.compare_digest(
            hash_token(browser_secret), pending.browser_hash
        )
        if not bound or pending.provider != name:
            raise OAuthFlowError(errors.INVALID_STATE)
        provider = self.providers.get(name)
        if params.error:
            denied = params.error == "access_denied"
            raise OAuthFlowError(errors.ACCESS_DENIED if denied else errors.PROVIDER_ERROR)
        if not params.code or (params.issuer and not provider.accepts_issuer(params.issuer)):
            raise OAuthFlowError(errors.PROVIDER_ERROR)
        request = AuthorizationRequest(
            params.state or "", pending.code_verifier, pending.nonce, pending.redirect_uri
        )
        profile = await provider.fetch_profile(params.code, request)
        return await tx.run(lambda session: self._account_for(session, name, profile, meta))

    async def _account_for(
        self, session: AsyncSession, provider: str, profile: ProviderProfile, meta: ClientMeta
    ) -> uuid.UUID:
        """The identity's user; else the account with this email, linked only when both the
        provider and the account have verified it; else a new passwordless account."""
        identities, users = OAuthIdentityRepository(session), UserRepository(session)
        identity = await identities.get_by_subject(provider, profile.subject)
        if identity is not None:
            user = await users.get(identity.user_id)
            if not user.is_active:
                raise OAuthFlowError(errors.ACCOUNT_DISABLED)
            await identities.update(
                identity, {"email": profile.email, "email_verified": profile.email_verified}
            )
            return user.id
        if profile.email is None:
            raise OAuthFlowError(errors.EMAIL_REQUIRED)
        try:
            existing = await users.get_by("email", profile.email)
            if existing is None:
                user = await self.auth.create_account(
                    session,
                    User(
                        email=profile.email,
                        full_name=profile.name[:200] if profile.name else None,
                        auth_type="oauth",
                        is_email_verified=profile.email_verified,
                    ),
                    meta,
                    provider=provider,
                )
            elif not (profile.email_verified and existing.is_email_verified):
                raise OAuthFlowError(errors.ACCOUNT_EXISTS)
            elif not existing.is_active:
                raise OAuthFlowError(errors.ACCOUNT_DISABLED)
            else:
                user = existing
            await identities.create(
                OAuthIdentity(
                    user_id=user.id,
                    provider=provider,
                    subject=profile.subject,
                    email=profile.email,
                    email_verified=profile.email_verified,
                )
            )
        # a concurrent login or sign-up, or another identity here
        except (IntegrityError, ConflictError) as error:
            raise OAuthFlowError(errors.IDENTITY_CONFLICT) from error
        await record_action(
            session, self.auth.domain_events, "oauth.link", meta, user.id, provider=provider
        )
        return user.id

    async def exchange(self, tx: TransactionRunner, code: str, meta: ClientMeta) -> TokenResponse:
        """The hand-off code (single use) for exactly what `POST /auth/login` returns."""
        user_id = await self.state.take_handoff(code)
        if user_id is None:
            raise errors.InvalidExchangeCodeError()
        user = await tx.run(lambda session: UserRepository(session).get_or_none(user_id))
        if user is None or not user.is_active:
            raise errors.InvalidExchangeCodeError()
        return await self.auth.start_session(tx, user_id, meta, method="oauth")

    async def identities(self, db: AsyncSession, principal: Principal) -> list[IdentityOut]:
        found = await OAuthIdentityRepository(db).for_user(principal.user_id)
        return [IdentityOut.model_validate(identity) for identity in found]

    async def unlink(
        self, db: AsyncSession, principal: Principal, provider: str, meta: ClientMeta
    ) -> None:
        """Refused when it would leave the account no way to log in (no password and no other
        identity). The user's identity rows are locked, so two concurrent unlinks cannot
        each leave the other's as the last one and both succeed."""
        identities = OAuthIdentityRepository(db)
        linked = await identities.for_user(principal.user_id, lock=True)
        target = next((i for i in linked if i.provider == provider), None)
        if target is None:
            raise NotFoundError("No identity of that provider is linked")
        user = await UserRepository(db).get(principal.user_id)
        if user.hashed_password is None and len(linked) == 1:
            raise errors.LastLoginMethodError()
        await identities.delete(target)
        await record_action(
            db, self.auth.domain_events, "oauth.unlink", meta, user.id, provider=provider
        )
