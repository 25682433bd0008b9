"""`quartet db seed` for RBAC (idempotent): the system groups, every permission the code
declares, and each system group's default grants.

A default grant is made once, when its permission (or its group) is first seeded: an
administrator who later takes a permission away from a system group is not overruled by the
next deploy. The admin group is granted every declared permission.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from quartet.rbac.models import Group, Permission
from quartet.rbac.registry import SYSTEM_GROUPS, declared_permissions
from quartet.rbac.repository import GroupRepository, PermissionRepository
from quartet.settings import Settings
from quartet.users.repository import UserRepository


async def seed_rbac(session: AsyncSession, settings: Settings) -> str:
    del settings  # the seeder signature; RBAC needs no setting
    groups, permissions = GroupRepository(session), PermissionRepository(session)

    existing = {
        g.codename: g for g in await groups.by_codenames([s.codename for s in SYSTEM_GROUPS])
    }
    created: set[str] = set()
    for spec in SYSTEM_GROUPS:
        group = existing.get(spec.codename)
        if group is None:
            existing[spec.codename] = await groups.create(
                Group(
                    codename=spec.codename,
                    name=spec.name,
                    description=spec.description,
                    is_system=True,
                )
            )
            created.add(spec.codename)
        elif not group.is_system:
            await groups.update(group, {"is_system": True})

    declared = declared_permissions()
    new_ids = set(
        await permissions.insert_missing(
            [
                Permission(
                    codename=p.codename, name=p.name, description=p.description, category=p.category
                )
                for p in declared
            ]
        )
    )
    rows = await permissions.by_codenames([p.codename for p in declared])

    grants = 0
    for spec in SYSTEM_GROUPS:
        group = existing[spec.codename]
        candidates = rows if spec.codename in created else [p for p in rows if p.id in new_ids]
        chosen = [p.id for p in candidates if spec.grants is None or p.codename in spec.grants]
        added = await groups.grant(group.id, chosen)
        if added:
            await UserRepository(session).bump_authz_versions(groups.members(group.id))
        grants += added
    return (
        f"rbac: {len(created)} groups created, {len(new_ids)} permissions added, "
        f"{grants} default grants made ({len(declared)} permissions declared)"
    )
