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
from starlette.types import Message, Send

from quartet.core.errors import error_response

_ALLOW_CREDENTIALS = "access-control-allow-credentials"


class ListedOriginsCORSMiddleware(CORSMiddleware):
    """Used by `quartet.core.middleware.EdgeMiddleware` for requests with an Origin (the
    edge adds `Vary: Origin` to the others itself)."""

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


async def _without_credentials(send: Send, message: Message) -> None:
    if message["type"] == "http.response.start":
        del MutableHeaders(scope=message)[_ALLOW_CREDENTIALS]
    await send(message)
