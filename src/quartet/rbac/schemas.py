from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from quartet.core.schemas import PartialUpdate, ResponseModel, StrictInput, examples
from quartet.rbac.models import CATEGORY_MAX, CODENAME_MAX, DESCRIPTION_MAX, NAME_MAX
from quartet.rbac.registry import CODENAME_PATTERN

MAX_IDS = 100

PermissionCodename = Annotated[
    str, StringConstraints(pattern=CODENAME_PATTERN, max_length=CODENAME_MAX)
]
GroupCodename = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,99}$")]
Category = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=CATEGORY_MAX)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=NAME_MAX, strip_whitespace=True)]
Description = Annotated[str, StringConstraints(max_length=DESCRIPTION_MAX, strip_whitespace=True)]


class PermissionIn(StrictInput):
    codename: PermissionCodename
    name: Name
    description: Description = ""
    category: Category | None = Field(default=None, description="default: the codename's prefix")

    model_config = examples(
        {
            "codename": "reports.export",
            "name": "Export reports",
            "description": "Download reports as CSV",
            "category": "reports",
        }
    )


class _NamedUpdate(PartialUpdate):
    """What permissions and groups both have: a display name and a description."""

    name: Name | None = None
    description: Description | None = None


class PermissionUpdate(_NamedUpdate):
    codename: PermissionCodename | None = None
    category: Category | None = None

    model_config = examples({"name": "Export every report"})


class _NamedOut(ResponseModel):
    """What permissions and groups both show first."""

    id: uuid.UUID
    codename: str
    name: str
    description: str


class PermissionOut(_NamedOut):
    category: str
    created_at: datetime
    updated_at: datetime


class GroupIn(StrictInput):
    codename: GroupCodename
    name: Name
    description: Description = ""
    is_active: bool = True

    model_config = examples(
        {
            "codename": "editors",
            "name": "Editors",
            "description": "Moderate posts",
            "is_active": True,
        }
    )


class GroupUpdate(_NamedUpdate):
    codename: GroupCodename | None = None
    is_active: bool | None = None

    model_config = examples({"description": "Moderate posts and media"})


class GroupOut(_NamedOut):
    is_system: bool
    is_active: bool
    created_at: datetime
    updated_at: datetime


class GroupDetailOut(GroupOut):
    permissions: list[PermissionOut]
    member_count: int


class PermissionIdsIn(StrictInput):
    permission_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_IDS)

    model_config = examples({"permission_ids": ["0193c5b4-4c2d-7a1b-9e3f-6d7c8b9a0e1f"]})


class GroupIdsIn(StrictInput):
    group_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_IDS)

    model_config = examples({"group_ids": ["0193c5b3-0a1f-7b2e-8c4d-5e6f7a8b9c0d"]})


class MembershipOut(BaseModel):
    group: GroupOut
    assigned_at: datetime
    assigned_by: uuid.UUID | None


class UserPermissionsOut(BaseModel):
    user_id: uuid.UUID
    is_superuser: bool = Field(description="a superuser holds every permission")
    permissions: list[PermissionOut]
