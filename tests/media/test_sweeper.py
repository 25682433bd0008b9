"""The periodic sweep runs by itself in the app: an object no row names and a staging file a
crashed upload left behind both go once they are older than the grace period."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fastapi import FastAPI

from quartet.media.runtime import MediaRuntime
from tests.apps import dedicated_app
from tests.media import samples
from tests.media.conftest import all_keys, backend_settings


async def test_the_background_sweep_removes_orphans_and_stale_staging_files(
    app: FastAPI, tmp_path: Path
) -> None:
    settings = {
        **backend_settings("local", tmp_path),
        "MEDIA_SWEEP_INTERVAL_SECONDS": 1,
        "MEDIA_ORPHAN_GRACE_SECONDS": 0,
    }
    async with dedicated_app(**settings) as swept:
        runtime: MediaRuntime = swept.state.media
        storage = runtime.storage
        leftover = storage.staging_dir / "in-crashed"
        leftover.write_bytes(b"partial upload")
        source = storage.staging_dir / "orphan"
        source.write_bytes(samples.pdf())
        await storage.put("0f/" + "0f" * 16, source, content_type="", disposition="")

        for _ in range(50):  # the sweep runs every second: allow it 10
            if not await all_keys(storage) and not leftover.exists():
                break
            await asyncio.sleep(0.2)

        assert await all_keys(storage) == set()
        assert not leftover.exists()
