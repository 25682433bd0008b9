"""Idempotency-Key: a creating POST repeated with the same key answers what the first one did.

Adopt it on a route with one line in its decorator: `dependencies=[Idempotent]` (from
`quartet.idempotency.dependencies`). `install_idempotency(app)` (in `create_app`) adds what
records and replays the answers.
"""
