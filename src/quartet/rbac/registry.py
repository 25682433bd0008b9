"""Where permissions come from: each domain declares the codenames it checks in its own
`quartet/<domain>/permissions.py` (`PERMISSIONS`, pairs of codename and description, built by
`quartet.core.codenames.declare` from a `Permission` constant per codename); this module
finds those modules by walking the `quartet` package, so a new domain needs no registration
here. Also the system groups and what each is granted by default."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import re
from dataclasses import dataclass
from functools import cache

import quartet
from quartet.events.permissions import EVENTS_ACTIVITY_READ_ANY
from quartet.posts.permissions import POSTS_MODERATE
from quartet.rbac.groups import ADMIN, MODERATOR, SHOP_MANAGER, SUPPORT, USER
from quartet.rbac.permissions import RBAC_READ
from quartet.sessions.permissions import SESSIONS_MANAGE_ANY
from quartet.shop.permissions import SHOP_ORDERS_READ_ANY, SHOP_PRODUCTS_WRITE, SHOP_STATS_READ
from quartet.users.permissions import USERS_READ

CODENAME_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"
_CODENAME = re.compile(CODENAME_PATTERN)


@dataclass(frozen=True)
class SystemGroup:
    codename: str
    name: str
    description: str
    grants: frozenset[str] | None
    """Permissions granted when they are first seeded (None: every permission)."""


SYSTEM_GROUPS: tuple[SystemGroup, ...] = (
    SystemGroup(ADMIN, "Administrators", "Every permission", None),
    SystemGroup(
        MODERATOR, "Moderators", "Moderate what users post", frozenset({POSTS_MODERATE, USERS_READ})
    ),
    SystemGroup(
        SHOP_MANAGER,
        "Shop managers",
        "Products, orders and sales statistics",
        frozenset({SHOP_PRODUCTS_WRITE, SHOP_ORDERS_READ_ANY, SHOP_STATS_READ}),
    ),
    SystemGroup(
        SUPPORT,
        "Support",
        "Help users with their accounts, sessions and orders",
        frozenset(
            {
                USERS_READ,
                RBAC_READ,
                SESSIONS_MANAGE_ANY,
                EVENTS_ACTIVITY_READ_ANY,
                SHOP_ORDERS_READ_ANY,
            }
        ),
    ),
    SystemGroup(USER, "Users", "Every registered user", frozenset()),
)


@dataclass(frozen=True)
class DeclaredPermission:
    codename: str
    description: str

    @property
    def category(self) -> str:
        return category_of(self.codename)

    @property
    def name(self) -> str:
        return self.codename.replace(".", ": ", 1).replace("_", " ").capitalize()


def category_of(codename: str) -> str:
    """A codename's domain, its part before the first dot."""
    return codename.split(".", 1)[0]


class PermissionDeclarationError(Exception):
    """A domain's `permissions.py` is malformed or repeats another domain's codename."""


@cache
def declared_permissions() -> tuple[DeclaredPermission, ...]:
    """Every codename the code checks, from each `quartet.<package>.permissions` module."""
    found: dict[str, DeclaredPermission] = {}
    for package in pkgutil.iter_modules(quartet.__path__):
        name = f"{quartet.__name__}.{package.name}.permissions"
        if not package.ispkg or importlib.util.find_spec(name) is None:
            continue
        module = importlib.import_module(name)
        for codename, description in getattr(module, "PERMISSIONS", ()):
            if not _CODENAME.fullmatch(codename) or codename in found:
                raise PermissionDeclarationError(f"{name}: bad or repeated codename {codename!r}")
            found[codename] = DeclaredPermission(codename, description)
    return tuple(found[c] for c in sorted(found))


def is_declared(codename: str) -> bool:
    return any(p.codename == codename for p in declared_permissions())
