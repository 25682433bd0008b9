"""Every `quartet/<domain>/permissions.py` is found without being registered anywhere."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import quartet
from quartet.rbac.registry import CODENAME_PATTERN, declared_permissions


def test_each_domain_module_is_discovered_with_its_constants() -> None:
    root = Path(quartet.__file__).parent
    modules = sorted(p.parent.name for p in root.glob("*/permissions.py"))
    assert {"cache", "events", "posts", "rbac", "sessions", "shop", "users"} <= set(modules)
    declared = {p.codename: p for p in declared_permissions()}
    for name in modules:
        module = importlib.import_module(f"quartet.{name}.permissions")
        constants = {v for k, v in vars(module).items() if k.isupper() and isinstance(v, str)}
        pairs = dict(module.PERMISSIONS)
        assert set(pairs) <= constants, name  # a constant per codename
        for codename, description in pairs.items():
            assert declared[codename].description == description
            assert declared[codename].category == codename.split(".")[0]
    assert all(re.fullmatch(CODENAME_PATTERN, c) for c in declared)
