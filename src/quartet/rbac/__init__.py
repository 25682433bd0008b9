"""Role-based access control: permissions declared beside each domain, groups, memberships, and
the `RequirePermission(...)` dependency every privileged route is guarded with."""
