"""The rules of docs/architecture.md hold: the import-linter contracts in pyproject.toml, and
two that an import graph cannot show (every package has a layer; only the stores commit)."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "quartet"
COMMITS = frozenset({"commit", "commit_transaction"})


def test_import_contracts_are_kept() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


def test_every_package_has_a_layer() -> None:
    """A new domain (or top-level module) must be placed in the layers contract, or no rule
    would constrain it."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = (c for c in config["contracts"] if c["id"] == "layers")
    placed = {name.strip() for layer in contract["layers"] for name in layer.split(":")}
    present = {
        f"quartet.{path.stem}"
        for path in PACKAGE.iterdir()
        if (path.suffix == ".py" and path.stem != "__init__") or (path / "__init__.py").exists()
    }
    assert present == placed


def test_only_the_stores_commit() -> None:
    """Services never commit: the request's unit of work (or a `TransactionRunner`) does, and
    both live in `quartet.stores`."""
    commits = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in PACKAGE.rglob("*.py")
        if "stores" not in path.relative_to(PACKAGE).parts
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in COMMITS
    ]
    assert commits == []
