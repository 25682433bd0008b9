"""The edge of every HTTP request: ONE pure-ASGI layer for the cheap per-request work.

Each ASGI layer costs a call frame, a `send` wrapper and a header pass per request; the request
id, trusted hosts, security headers, CORS (for requests without an Origin), unhandled errors,
the body size limit and the store deadline used to be seven of them. `EdgeMiddleware` does
them in one, in the order they nested (outermost first), and hands a request that carries an
Origin to `ListedOriginsCORSMiddleware` (browsers' cross-origin calls only).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from quartet.core.cors import ListedOriginsCORSMiddleware
from quartet.core.deadline import fresh_deadline, store_budget
from quartet.core.errors import PayloadTooLargeError, error_response, internal_error_response
from quartet.core.hosts import EXEMPT_PREFIX, host_allowed, host_name
from quartet.core.ids import uuid7
from quartet.core.request_context import RequestInfo, request_id_var, request_info_var

logger = logging.getLogger(__name__)

REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID_NAME = REQUEST_ID_HEADER.encode()
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")

_API_SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}
_STRICT_CSP = "default-src 'none'; frame-ancestors 'none'"
_DOCS_PATHS = ("/docs", "/redoc")


class EdgeMiddleware:
    """In order: (1) the request id, a well-formed `X-Request-ID` or a new one, echoed on the
    answer and exposed to logs; (2) trusted hosts, 400 `invalid_host` for a Host outside
    `allowed_hosts` (probes under /health exempt, kubelets address a pod by its IP);
    (3) conservative browser security headers, HSTS only where TLS is guaranteed, no strict CSP
    on the docs pages, a header the answer already carries left as it is; (4) CORS, `Vary:
    Origin` on answers to requests without an Origin, the CORS layer for the others;
    (5) unhandled errors: any exception no handler took becomes a 500 in the error format (with
    the CORS headers, else a SPA on another origin sees a CORS failure instead of the error),
    a full traceback in the log and none in the body; (6) the body size limit, 413 early on
    Content-Length, else while streaming (`path_limits`: exact paths such as uploads, whose
    route enforces its limit again as it streams); (7) the request's store deadline."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        allowed_hosts: Sequence[str],
        hsts: bool,
        cors: Mapping[str, Any],
        max_bytes: int,
        path_limits: Mapping[str, int] | None = None,
        store_deadline_seconds: float,
    ) -> None:
        self.app = app
        self.allowed_hosts = [pattern.lower() for pattern in allowed_hosts]
        headers = dict(_API_SECURITY_HEADERS)
        if hsts:
            headers["strict-transport-security"] = "max-age=63072000"
        self.docs_headers = [(k.encode(), v.encode()) for k, v in headers.items()]
        self.api_headers = [*self.docs_headers, (b"content-security-policy", _STRICT_CSP.encode())]
        self.max_bytes = max_bytes
        self.path_limits = dict(path_limits or {})
        self.store_seconds = store_budget(store_deadline_seconds)
        self.cors = ListedOriginsCORSMiddleware(self._limited, **cors)
        self.cors_error = ListedOriginsCORSMiddleware(_internal_error, **cors)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = host = b""
        origin = False
        for name, value in scope["headers"]:  # one pass over the request headers
            if name == b"host":
                host = host or value
            elif name == _REQUEST_ID_NAME:
                incoming = incoming or value
            elif name == b"origin":
                origin = True
        request_id = incoming.decode("latin-1")
        if not _VALID_REQUEST_ID.match(request_id):
            request_id = uuid7().hex
        id_token = request_id_var.set(request_id)
        info_token = request_info_var.set(RequestInfo(scope))
        path: str = scope["path"]
        added = [
            *(self.docs_headers if path.startswith(_DOCS_PATHS) else self.api_headers),
            (_REQUEST_ID_NAME, request_id.encode("latin-1")),
        ]
        started = False

        async def edge_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = _answer_headers(message.get("headers", ()), added, origin)
            await send(message)

        try:
            if not path.startswith(EXEMPT_PREFIX) and not host_allowed(
                host_name(host.decode("latin-1")), self.allowed_hosts
            ):
                response = error_response(400, "invalid_host", "Host header not allowed")
                await response(scope, receive, edge_send)
            elif origin:
                await self.cors(scope, receive, edge_send)
            else:
                await self._limited(scope, receive, edge_send)
        except Exception:
            logger.exception("unhandled error on %s %s", scope["method"], scope["path"])
            if started:
                raise
            await (self.cors_error if origin else _internal_error)(scope, receive, edge_send)
        finally:
            request_info_var.reset(info_token)
            request_id_var.reset(id_token)

    async def _limited(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The body size limit and the store deadline around the app."""
        max_bytes = self.path_limits.get(scope["path"], self.max_bytes)
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and (not declared.isdigit() or int(declared) > max_bytes):
            err = PayloadTooLargeError(f"Request body exceeds {max_bytes} bytes")
            await error_response(err.status_code, err.code, err.message)(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    # An HTTPException, because FastAPI turns any other error raised while it
                    # parses a JSON body into a 400 ("There was an error parsing the body").
                    raise StarletteHTTPException(
                        413, detail=f"Request body exceeds {max_bytes} bytes"
                    )
            return message

        with fresh_deadline(self.store_seconds):
            await self.app(scope, receive if declared is not None else limited_receive, send)


async def _internal_error(scope: Scope, receive: Receive, send: Send) -> None:
    await internal_error_response()(scope, receive, send)


def _answer_headers(
    headers: Iterable[tuple[bytes, bytes]], added: list[tuple[bytes, bytes]], origin: bool
) -> list[tuple[bytes, bytes]]:
    """The answer's raw headers (lower-case names, as every ASGI response carries them) plus
    each of `added` it lacks (the request id replaces any the app set); without an Origin,
    the Vary values joined in one header that names Origin, as Starlette's CORS does."""
    raw: list[tuple[bytes, bytes]] = []
    vary: list[bytes] = []
    for pair in headers:
        name = pair[0].lower()
        if name == b"vary" and not origin:
            vary.append(pair[1])
        elif name != _REQUEST_ID_NAME:
            raw.append(pair)
    if not origin:
        raw.append((b"vary", b", ".join([*vary, b"Origin"])))
    present = {name.lower() for name, _ in raw}
    raw.extend(pair for pair in added if pair[0] not in present)
    return raw
