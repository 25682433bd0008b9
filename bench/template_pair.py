"""`make bench-template`: only the `bench.table` pair of GET /api/v1/auth/me beside
full-stack-fastapi-template's GET /users/me (`bench.template_me`), on one PostgreSQL, without
the rest of the table's seeding. Same rounds, wrk runs and report as `bench.table`.

Usage: .venv/bin/python -m bench.template_pair [--duration 10] [--rounds 3] [--connections 32]
"""

from __future__ import annotations

import sys

from bench import template_me
from bench.common import bench_env, bench_stores, machine_note, run, uvicorn_server
from bench.posts_list import register_viewer
from bench.table import (
    check_answers,
    measure,
    parse_options,
    report,
    template_pair,
    template_server,
)
from quartet.settings import Settings

NAME = "quartet_bench_template"


async def main() -> int:
    options = parse_options()
    env = bench_env(NAME, BCRYPT_ROUNDS="4")
    print(f"bench.template_pair on {machine_note()} at start", flush=True)
    async with (
        bench_stores(NAME, env),
        uvicorn_server("quartet.main:app", env) as app,
        template_server(env) as template,
    ):
        viewer = await register_viewer(app.url)
        template_user = template_me.token(Settings.model_validate(env))
        pairs = [
            template_pair(
                app,
                template,
                {"Authorization": f"Bearer {viewer.access_token}"},
                {"Authorization": f"Bearer {template_user}"},
            )
        ]
        await check_answers(pairs)
        await measure(pairs, options)
    report(pairs, options)
    print(f"\n{machine_note()} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
