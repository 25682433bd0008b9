"""The ceiling of GET /health/liveness: a bare FastAPI app with that one route and nothing
else (no middleware, no dependencies). Serve with `uvicorn bench.bare_fastapi:app`."""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI(openapi_url=None)


@app.get("/health/liveness")
async def liveness() -> dict[str, str]:
    return {"status": "ok"}
