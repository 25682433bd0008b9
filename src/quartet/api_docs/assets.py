"""The files the docs pages load, all shipped with the app: Swagger UI 5 and ReDoc 2 as the
`fastapi-standalone-docs` package ships them (their licences beside them; its ReDoc build asks
for the Redocly logo on the page's own path instead of a CDN), and the small start-up script
the Swagger page needs (a file, so the policy allows no inline script)."""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache
from importlib.resources import files
from pathlib import Path

from fastapi.openapi.docs import get_swagger_ui_oauth2_redirect_html

PACKAGED = Path(str(files("fastapi_standalone_docs") / "static"))
STATIC = Path(__file__).parent / "static"

ASSETS: dict[str, Path] = {
    "swagger-ui.css": PACKAGED / "swagger" / "swagger-ui.css",
    "swagger-ui-bundle.js": PACKAGED / "swagger" / "swagger-ui-bundle.js",
    "redoc.standalone.js": PACKAGED / "redoc" / "redoc.standalone.js",
    "favicon.png": PACKAGED / "fastapi" / "favicon.png",
    "swagger-init.js": STATIC / "swagger-init.js",
    "docs.css": STATIC / "docs.css",
}
"""What `/docs/assets/{name}` serves: an allow-list, not a directory."""
REDOC_LOGO = PACKAGED / "redoc" / "logo-mini.svg"

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


@cache
def oauth2_redirect_page() -> tuple[str, str]:
    """FastAPI's OAuth2 redirect page for Swagger UI and the CSP source (`'sha256-…'`) of its
    one inline script: the page is the framework's own, so its script is trusted by hash."""
    html = bytes(get_swagger_ui_oauth2_redirect_html().body).decode()
    scripts = _INLINE_SCRIPT.findall(html)
    if len(scripts) != 1:
        raise RuntimeError("FastAPI's OAuth2 redirect page no longer has one inline script")
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    return html, f"'sha256-{digest}'"
