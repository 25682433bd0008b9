"""Swagger UI (`/docs`) and ReDoc (`/redoc`) served from the app's own files, under a
Content-Security-Policy that allows nothing else: the docs work offline and behind a strict
policy, and no third-party script ever runs next to a signed-in session."""
