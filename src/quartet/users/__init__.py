"""Users: accounts, identifiers and the public profile."""
