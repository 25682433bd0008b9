"""Authentication: login, three tokens with rotation and reuse detection, sessions, lockout."""
