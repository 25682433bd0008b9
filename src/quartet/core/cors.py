"""CORS that offers credentials to the listed SPA origins only (pure ASGI, like Starlette's).

Starlette's `CORSMiddleware` adds `Access-Control-Allow-Credentials: true` to every answer to a
request with an `Origin`, listed or not (browsers then still refuse an unlisted origin for want
of `Access-Control-Allow-Origin`). With cookie sessions nothing about credentials should be said
to an origin that is not trusted, so this variant drops it there, and renders a refused preflight
in the project's error format.
"""

from __future__ import annotations

import functools

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from quartet.core.errors import error_response

_ALLOW_CREDENTIALS = "access-control-allow-credentials"


class ListedOriginsCORSMiddleware(CORSMiddleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Requests without an Origin (not from a browser's cross-origin fetch) only need
        `Vary: Origin`, added to the raw headers without parsing them."""
        if scope["type"] == "http" and not any(k == b"origin" for k, _ in scope["headers"]):
            await self.app(scope, receive, functools.partial(_vary_on_origin, send))
            return
        await super().__call__(scope, receive, send)

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code == 200:
            return response
        listed = self.is_allowed_origin(request_headers["origin"])
        headers = {
            k: v
            for k, v in response.headers.items()
            if k.startswith(("access-control-", "vary")) and (listed or k != _ALLOW_CREDENTIALS)
        }
        refused = bytes(response.body).decode("utf-8", "replace")  # "Disallowed CORS origin"
        return error_response(400, "cors_refused", refused, headers=headers)

    async def send(self, message: Message, send: Send, request_headers: Headers) -> None:
        origin = request_headers.get("origin")
        if origin is None or self.is_allowed_origin(origin):
            await super().send(message, send, request_headers)
            return
        await super().send(message, functools.partial(_without_credentials, send), request_headers)


async def _vary_on_origin(send: Send, message: Message) -> None:
    """What Starlette's CORS adds to an answer to a request without an Origin: its Vary
    values, Origin included, as one header."""
    if message["type"] == "http.response.start":
        raw = list(message.get("headers", ()))
        vary = [v for k, v in raw if k.lower() == b"vary"]
        message["headers"] = [
            *(pair for pair in raw if pair[0].lower() != b"vary"),
            (b"vary", b", ".join([*vary, b"Origin"])),
        ]
    await send(message)


async def _without_credentials(send: Send, message: Message) -> None:
    if message["type"] == "http.response.start":
        del MutableHeaders(scope=message)[_ALLOW_CREDENTIALS]
    await send(message)
