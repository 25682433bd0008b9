"""`/docs` (Swagger UI), `/docs/oauth2-redirect`, `/redoc` and the files they load, under
`/docs/assets/`. Each page sends its own Content-Security-Policy, which allows only the app's
own files (the security headers middleware keeps a header an answer already has)."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse

from quartet.api_docs.assets import ASSETS, REDOC_LOGO, oauth2_redirect_page
from quartet.core.errors import NotFoundError

ASSETS_PATH = "/docs/assets"
OAUTH2_REDIRECT_PATH = "/docs/oauth2-redirect"
_ASSET_CACHE = "public, max-age=3600"

_LOCKED = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
SWAGGER_CSP = (
    f"{_LOCKED}; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'"
)
"""Swagger UI: its scripts and styles from the app, the document and "Try it out" calls to the
app, its icons as data: URIs."""
REDOC_CSP = (
    f"{_LOCKED}; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; worker-src blob:"
)
"""ReDoc: styled-components writes `<style>` elements at run time, and its search index runs
in a worker built from a blob: URL. Scripts stay limited to the app's own files."""

router = APIRouter(include_in_schema=False)


def _url(request: Request, path: str) -> str:
    """`path` under the app's root path (behind a proxy that mounts it under a prefix)."""
    return escape(f"{request.scope.get('root_path', '')}{path}", quote=True)


def _openapi_url(request: Request) -> str:
    return _url(request, request.app.openapi_url or "")


def _page(request: Request, tool: str, head: str, body: str, policy: str) -> HTMLResponse:
    """The shell both pages share (title, the app's stylesheet and icon) around the tool's own
    `head` and `body` elements, sent under the tool's Content-Security-Policy."""
    assets = _url(request, ASSETS_PATH)
    page = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{escape(request.app.title)} - {tool}</title>
<link rel="stylesheet" href="{assets}/docs.css">
<link rel="icon" type="image/png" href="{assets}/favicon.png">
{head}
</head>
<body>
{body}
</body>
</html>
"""
    return HTMLResponse(page, headers={"content-security-policy": policy})


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI's bundle, started by swagger-init.js on the `#swagger-ui` element."""
    assets = _url(request, ASSETS_PATH)
    head = f'<link rel="stylesheet" href="{assets}/swagger-ui.css">'
    body = f"""<div id="swagger-ui" data-openapi-url="{_openapi_url(request)}"
     data-oauth2-redirect-url="{_url(request, OAUTH2_REDIRECT_PATH)}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/swagger-init.js"></script>"""
    return _page(request, "Swagger UI", head, body, SWAGGER_CSP)


@router.get(OAUTH2_REDIRECT_PATH)
async def swagger_ui_oauth2_redirect() -> HTMLResponse:
    """Where an OAuth2 provider sends Swagger UI back: its one inline script is allowed by
    hash, nothing else runs."""
    html, script_hash = oauth2_redirect_page()
    policy = f"{_LOCKED}; script-src {script_hash}"
    return HTMLResponse(html, headers={"content-security-policy": policy})


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    """ReDoc's standalone build starts itself on the `<redoc spec-url>` element."""
    head = '<meta name="viewport" content="width=device-width, initial-scale=1">'
    body = f"""<redoc spec-url="{_openapi_url(request)}"></redoc>
<script src="{_url(request, ASSETS_PATH)}/redoc.standalone.js"></script>"""
    return _page(request, "ReDoc", head, body, REDOC_CSP)


@router.get("/redoc/logo-mini.svg")
async def redoc_logo() -> FileResponse:
    """ReDoc's sidebar footer shows the Redocly logo from the page's own path."""
    return FileResponse(REDOC_LOGO, headers={"cache-control": _ASSET_CACHE})


@router.get(f"{ASSETS_PATH}/{{name}}")
async def asset(name: str) -> FileResponse:
    path = ASSETS.get(name)
    if path is None:
        raise NotFoundError()
    return FileResponse(path, headers={"cache-control": _ASSET_CACHE})
