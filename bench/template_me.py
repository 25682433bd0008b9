"""A stand-in for full-stack-fastapi-template's `GET /api/v1/users/me`, the comparison point of
issue 13's ">= 3x the template" target (the template itself cannot be fetched at bench time, so
its request path is reproduced here, written from its backend sources).

Reproduced per request, as in the template:
- `main.py`: a FastAPI app whose only middleware is Starlette's `CORSMiddleware` (one allowed
  origin, credentials, every method and header), the API under `/api/v1`.
- `api/deps.py`: sync `def` dependencies, run in the thread pool: `get_db` yields a SQLModel
  `Session(engine)`; `OAuth2PasswordBearer` reads the bearer token (401 without one);
  `get_current_user` decodes it with pyjwt (HS256, `SECRET_KEY`), validates the claims as
  `TokenPayload` (403 when either fails), loads the user with `session.get(User, sub)` (one
  `SELECT` by primary key in a transaction rolled back when the session closes), 404 when
  missing, 400 when inactive.
- `api/routes/users.py`: the sync route `read_user_me` returns the user through
  `response_model=UserPublic` (validated again, `EmailStr` included, then serialised).
- `models.py`: `UserBase`, `User` (the same columns and types), `UserPublic`, `TokenPayload`.
- `core/db.py` and `core/config.py`: `create_engine(DATABASE_URL)` with SQLAlchemy's default
  pool (5 + 10 overflow) on psycopg 3 (`postgresql+psycopg`), the driver the template pins.
- `core/security.py`: `create_access_token` (`sub` = the user id, `exp`), HS256.
- `api/routes/utils.py`: the async `GET /api/v1/utils/health-check/` (the readiness probe here).

Left out (none of it runs on this request): the other routes (login, items, the rest of users;
there Starlette tries about ten more route patterns before `/users/me`, microseconds), Sentry
(off unless `SENTRY_DSN` is set), the frontend's static files, the `Item` relationship,
password hashing (the stand-in's user has no password: the benchmark signs its token directly),
Alembic (the table is created on startup). The template runs on Python 3.14 with
`fastapi run --workers 4`; here it runs on the project's Python, one uvicorn worker, like every
server `bench.table` compares. Its engine, secret and dependencies are built by `create_app`
(closures instead of module globals, so a test can point it at its own database): the same
work per request.

Its own table, `template_user`, in the database named by the app's `DATABASE_URL` (created on
startup with one active user, `BENCH_USER_ID`), so it does not depend on Quartet's schema. The
secret is Quartet's `SECRET_KEY` setting. Serve with `uvicorn bench.template_me:app`.
"""

import uuid
from collections.abc import AsyncIterator, Generator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import anyio.to_thread
import jwt
from fastapi import APIRouter, Depends, FastAPI, HTTPException, status
from fastapi.security import OAuth2PasswordBearer
from jwt.exceptions import InvalidTokenError
from pydantic import EmailStr, ValidationError
from sqlalchemy import DateTime, Engine
from sqlalchemy.orm import registry
from sqlmodel import Field, Session, SQLModel, create_engine
from starlette.middleware.cors import CORSMiddleware

from quartet.settings import Settings, get_settings

API_V1_STR = "/api/v1"
HEALTH_CHECK = f"{API_V1_STR}/utils/health-check/"  # the template's unauthenticated route
ALGORITHM = "HS256"
ACCESS_TOKEN_EXPIRE = timedelta(days=8)  # the template's ACCESS_TOKEN_EXPIRE_MINUTES
FRONTEND_HOST = "http://localhost:5173"  # the template's default CORS origin
BENCH_USER_ID = uuid.UUID("0193a5c0-7e1f-7000-8000-000000000001")
BENCH_USER_EMAIL = "template-me@example.com"
NO_PASSWORD = "!"  # noqa: S105 - a hash nothing verifies against: this stand-in has no login


def get_datetime_utc() -> datetime:
    return datetime.now(UTC)


class TemplateModel(SQLModel, registry=registry()):
    """Base of the stand-in's models: a registry and metadata of their own, so its table stays
    out of Quartet's metadata (and its naming convention) when both are imported."""


class UserBase(TemplateModel):
    email: EmailStr = Field(unique=True, index=True, max_length=255)
    is_active: bool = True
    is_superuser: bool = False
    full_name: str | None = Field(default=None, max_length=255)


class User(UserBase, table=True):
    __tablename__ = "template_user"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    hashed_password: str
    created_at: datetime | None = Field(
        default_factory=get_datetime_utc,
        sa_type=DateTime(timezone=True),
    )


class UserPublic(UserBase):
    id: uuid.UUID
    created_at: datetime | None = None


class TokenPayload(TemplateModel):
    sub: str | None = None


def psycopg_url(settings: Settings) -> str:
    """The app's `DATABASE_URL` on the template's driver."""
    return settings.DATABASE_URL.replace("postgresql+asyncpg://", "postgresql+psycopg://", 1)


def create_access_token(subject: str | Any, expires_delta: timedelta, secret: str) -> str:
    """The template's `core/security.py` signer, with the secret passed in."""
    expire = datetime.now(UTC) + expires_delta
    to_encode = {"exp": expire, "sub": str(subject)}
    return jwt.encode(to_encode, secret, algorithm=ALGORITHM)


def token(settings: Settings) -> str:
    """An access token for the stand-in's user, as the template's login would issue."""
    return create_access_token(
        BENCH_USER_ID, ACCESS_TOKEN_EXPIRE, settings.SECRET_KEY.get_secret_value()
    )


def init_db(engine: Engine) -> None:
    """`template_user` and its one user, when missing (the template's prestart does this with
    Alembic and `init_db`)."""
    TemplateModel.metadata.create_all(engine)
    with Session(engine) as session:
        if session.get(User, BENCH_USER_ID) is None:
            session.add(
                User(
                    id=BENCH_USER_ID,
                    email=BENCH_USER_EMAIL,
                    full_name="Template Me",
                    hashed_password=NO_PASSWORD,
                )
            )
            session.commit()


def create_app(settings: Settings | None = None) -> FastAPI:
    """The template's app and its `/users/me` path, over the database in `settings`. (No
    `from __future__ import annotations` in this module: FastAPI reads the dependencies'
    annotations at once, and these name closures it could not resolve later.)"""
    settings = settings or get_settings()
    engine = create_engine(psycopg_url(settings))
    secret_key = settings.SECRET_KEY.get_secret_value()
    reusable_oauth2 = OAuth2PasswordBearer(tokenUrl=f"{API_V1_STR}/login/access-token")

    def get_db() -> Generator[Session, None, None]:
        with Session(engine) as session:
            yield session

    def get_current_user(
        session: Annotated[Session, Depends(get_db)],
        token: Annotated[str, Depends(reusable_oauth2)],
    ) -> User:
        try:
            payload = jwt.decode(token, secret_key, algorithms=[ALGORITHM])
            token_data = TokenPayload(**payload)
        except (InvalidTokenError, ValidationError):
            raise HTTPException(
                status_code=status.HTTP_403_FORBIDDEN,
                detail="Could not validate credentials",
            ) from None
        user = session.get(User, token_data.sub)
        if not user:
            raise HTTPException(status_code=404, detail="User not found")
        if not user.is_active:
            raise HTTPException(status_code=400, detail="Inactive user")
        return user

    users = APIRouter(prefix="/users", tags=["users"])

    @users.get("/me", response_model=UserPublic)
    def read_user_me(current_user: Annotated[User, Depends(get_current_user)]) -> Any:
        return current_user

    utils = APIRouter(prefix="/utils", tags=["utils"])

    @utils.get("/health-check/")
    async def health_check() -> bool:
        return True

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(init_db, engine)
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(engine.dispose)

    app = FastAPI(
        title="full-stack-fastapi-template stand-in",
        openapi_url=f"{API_V1_STR}/openapi.json",
        lifespan=lifespan,
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=[FRONTEND_HOST],
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
    )
    api_router = APIRouter()
    api_router.include_router(users)
    api_router.include_router(utils)
    app.include_router(api_router, prefix=API_V1_STR)
    return app


def __getattr__(name: str) -> FastAPI:
    """`bench.template_me:app` for uvicorn, built on first access (importing stays free of
    side effects, as `quartet.main` does)."""
    if name == "app":
        app = create_app()
        globals()["app"] = app
        return app
    raise AttributeError(name)
