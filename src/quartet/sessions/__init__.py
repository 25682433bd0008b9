"""Activity sessions (seed 002): one Redis hash per user, `session:{user_id}`, idle after 30 min.

How they relate to the auth sessions (`quartet.auth`, PostgreSQL rows behind the tokens):

- Login starts the user's activity session or, if one is live, refreshes it and joins it (the
  hash also records which auth sessions belong to it). Every authenticated request touches it
  (`last_active` and the TTL) in the same Redis round trip as the token's revocation check;
  `POST /auth/refresh` touches it too. A touch never re-creates an expired session: after
  `SESSION_TTL_SECONDS` without activity Redis deletes the hash, and it stays gone until the
  next login (or `POST /session/{user_id}`).
- `SESSION_IDLE_LOGOUT=false` (default): the activity session is informational ("who is active,
  since when"); tokens live their own lives.
- `SESSION_IDLE_LOGOUT=true`: a bearer token is accepted only while its auth session belongs to
  the user's live activity session, so an expired (or deleted) activity session ends every
  token of the user with 401 `session_idle_timeout`, and a refresh token of such a session is
  revoked when presented. A later login starts a new activity session that the old tokens do
  not belong to, so they stay ended. The idle clock is per user, not per device: activity on
  one device keeps the user's other devices signed in.
"""
