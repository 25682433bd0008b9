"""An SPA's TypeScript client, generated from the app's /openapi.json with openapi-typescript,
type-checks (strict `tsc --noEmit`) a small file that logs in, reads /auth/me, pages through
posts and tells an order's 409 error codes apart (tests/contract/ts/client.ts)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import httpx

from tests.contract.conftest import TS_DIR

TOOL_TIMEOUT_S = 300


# Typed against the generated client, this must not compile: proof that the check has teeth.
CONTROL = """import type { paths } from "./api";
export const unknownRoute: keyof paths = "/api/v1/no-such-route";
"""


def _run(tool: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(tool), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TOOL_TIMEOUT_S,
        check=False,
    )


def _passes(tool: Path, *args: str, cwd: Path) -> None:
    done = _run(tool, *args, cwd=cwd)
    assert done.returncode == 0, f"{tool.name} failed:\n{done.stdout}{done.stderr}"


async def test_generated_client_type_checks(
    raw_client: httpx.AsyncClient, node_modules: Path, tmp_path: Path
) -> None:
    document = await raw_client.get("/openapi.json")
    assert document.status_code == 200, document.text
    (tmp_path / "openapi.json").write_bytes(document.content)
    for name in ("client.ts", "tsconfig.json", "package.json"):
        shutil.copy(TS_DIR / name, tmp_path / name)
    (tmp_path / "node_modules").symlink_to(node_modules)
    tools = node_modules / ".bin"

    _passes(tools / "openapi-typescript", "openapi.json", "--output", "api.d.ts", cwd=tmp_path)
    generated = (tmp_path / "api.d.ts").read_text()
    assert '"/api/v1/auth/login"' in generated
    assert '"/api/v1/orders/"' in generated

    _passes(tools / "tsc", "--noEmit", "--project", "tsconfig.json", cwd=tmp_path)

    (tmp_path / "control.ts").write_text(CONTROL)
    refused = _run(tools / "tsc", "--noEmit", "--strict", "control.ts", "api.d.ts", cwd=tmp_path)
    assert refused.returncode != 0
    assert "TS2322" in refused.stdout, refused.stdout
