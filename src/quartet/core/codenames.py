"""How a domain declares the permissions it checks: each codename once, with its description.

`quartet/<domain>/permissions.py` holds a constant per codename
(`EVENTS_READ = Permission("events.read", "Read the event log by type")`) and
`PERMISSIONS = declare(EVENTS_READ, ...)`, the (codename, description) pairs the RBAC registry
discovers and seeds.
"""

from __future__ import annotations


class Permission(str):
    """A `<domain>.<action>` codename, a plain `str` wherever it is checked, that also carries
    the description the seed stores for it."""

    description: str

    def __new__(cls, codename: str, description: str) -> Permission:
        permission = super().__new__(cls, codename)
        permission.description = description
        return permission

    def __reduce__(self) -> tuple[type[Permission], tuple[str, str]]:
        """Copied and pickled whole (`str`'s own would drop the description)."""
        return Permission, (str(self), self.description)


def declare(*permissions: Permission) -> tuple[tuple[str, str], ...]:
    """A domain's `PERMISSIONS`: each codename with its description."""
    return tuple((str(permission), permission.description) for permission in permissions)
