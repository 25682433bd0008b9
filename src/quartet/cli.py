"""The `quartet` command: serve, db (migrations, seed, reset), schema, check, backup, restore."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from quartet.settings import Settings, get_settings


def _alembic_config(settings: Settings) -> object:
    from alembic.config import Config

    candidates = [Path.cwd() / "alembic.ini", Path(__file__).resolve().parents[2] / "alembic.ini"]
    ini = next((p for p in candidates if p.exists()), None)
    if ini is None:
        raise SystemExit("alembic.ini not found: run from the project directory")
    config = Config(str(ini))
    config.attributes["url"] = settings.DATABASE_URL
    return config


def _db(args: argparse.Namespace, settings: Settings) -> int:
    from alembic import command

    config = _alembic_config(settings)
    action = args.db_action
    if action == "upgrade":
        command.upgrade(config, args.revision)  # type: ignore[arg-type]
    elif action == "downgrade":
        command.downgrade(config, args.revision)  # type: ignore[arg-type]
    elif action == "revision":
        command.revision(config, message=args.message, autogenerate=not args.empty)  # type: ignore[arg-type]
    elif action == "current":
        command.current(config, verbose=True)  # type: ignore[arg-type]
    elif action == "history":
        command.history(config, verbose=False)  # type: ignore[arg-type]
    elif action == "seed":
        for line in asyncio.run(_seed(settings)) or ["nothing to seed"]:
            print(line)
    elif action == "reset":
        if not settings.is_dev and not args.yes:
            print(
                f"refusing to reset the {settings.ENVIRONMENT} database without --yes",
                file=sys.stderr,
            )
            return 2
        command.downgrade(config, "base")  # type: ignore[arg-type]
        command.upgrade(config, "head")  # type: ignore[arg-type]
        for line in asyncio.run(_seed(settings)):
            print(line)
        print("database reset to head and seeded")
    return 0


async def _seed(settings: Settings) -> list[str]:
    from quartet.seed import run_seeders
    from quartet.stores.registry import Stores

    stores = Stores(settings)
    try:
        return await run_seeders(stores)
    finally:
        await stores.close()


async def _schema(settings: Settings) -> None:
    from quartet.schema import apply_cassandra_schema, apply_mongo_schema
    from quartet.stores.registry import Stores

    stores = Stores(settings)
    try:
        await apply_cassandra_schema(stores.cassandra)
        await apply_mongo_schema(stores.mongo)
    finally:
        await stores.close()


async def _mongo_backup(args: argparse.Namespace, settings: Settings) -> str:
    from quartet.backup import backup_mongo, restore_mongo
    from quartet.stores import mongo

    client = mongo.create_client(settings)
    try:
        db = mongo.database(client, settings.MONGODB_DB)
        if args.command == "backup":
            keep = args.keep or settings.BACKUP_KEEP
            return (await backup_mongo(db, args.out or settings.BACKUP_DIR, keep)).summary()
        return (await restore_mongo(db, args.source)).summary()
    finally:
        await client.close()


def _backup(args: argparse.Namespace, settings: Settings) -> int:
    """Cron-fit: one summary line on stdout, or one error line on stderr and exit status 1."""
    try:
        print(asyncio.run(_mongo_backup(args, settings)))
    except Exception as error:
        print(f"{args.command} mongo failed: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    return 0


async def _check(settings: Settings) -> int:
    from quartet.health.service import health_service
    from quartet.stores.registry import Stores

    stores = Stores(settings)
    try:
        result = await health_service(stores).readiness()
    finally:
        await stores.close()
    for name, status in result.stores.items():
        if status.status == "ok":
            extra = f" {status.version}" if status.version else ""
            print(f"{name:<10} ok{extra} ({status.latency_ms:.0f} ms)")
        else:
            print(f"{name:<10} UNAVAILABLE: {status.error}")
    if result.failed:
        print("start the local stores with `make services-up`, or fix their *_URL settings")
        return 1
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from quartet.observability.multiprocess import prepare_metrics_dir

    workers = 1 if args.reload else args.workers or settings.SERVER_WORKERS
    prepare_metrics_dir(workers=workers)

    uvicorn.run(
        "quartet.main:app",
        host=args.host or settings.SERVER_HOST,
        port=args.port or settings.SERVER_PORT,
        workers=None if args.reload else workers,
        reload=args.reload,
        loop="uvloop",
        http="httptools",
        proxy_headers=bool(settings.TRUSTED_PROXIES),
        forwarded_allow_ips=settings.TRUSTED_PROXIES or None,
        log_config=None,
        access_log=True,
    )
    return 0


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="quartet", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the API with uvicorn (uvloop, httptools)")
    serve.add_argument("--host", help="default: SERVER_HOST (127.0.0.1)")
    serve.add_argument("--port", type=_positive, help="default: SERVER_PORT (8000)")
    serve.add_argument("--workers", type=_positive, help="default: SERVER_WORKERS (1)")
    serve.add_argument("--reload", action="store_true", help="restart on code changes (dev)")

    db = sub.add_parser("db", help="PostgreSQL migrations and data")
    dbsub = db.add_subparsers(dest="db_action", required=True)
    dbsub.add_parser("upgrade", help="migrate up").add_argument(
        "revision", nargs="?", default="head"
    )
    dbsub.add_parser("downgrade", help="migrate down").add_argument(
        "revision", nargs="?", default="-1"
    )
    revision = dbsub.add_parser("revision", help="new migration (autogenerated from the models)")
    revision.add_argument("-m", "--message", required=True)
    revision.add_argument("--empty", action="store_true", help="do not autogenerate")
    dbsub.add_parser("current", help="show the current revision")
    dbsub.add_parser("history", help="list revisions")
    dbsub.add_parser(
        "seed", help="idempotent seed data (first superuser, permissions, system groups)"
    )
    reset = dbsub.add_parser("reset", help="downgrade to base, upgrade to head, seed")
    reset.add_argument("--yes", action="store_true", help="required outside dev/test")

    sub.add_parser(
        "schema",
        help="apply the Cassandra keyspace and tables, MongoDB validators and indexes (idempotent)",
    )
    sub.add_parser("check", help="validate settings and reach every store")

    backup = sub.add_parser("backup", help="timestamped backup (keeps the newest BACKUP_KEEP)")
    mongo_backup = backup.add_subparsers(dest="store", required=True).add_parser(
        "mongo", help="the MongoDB database in mongodump's layout, under BACKUP_DIR"
    )
    mongo_backup.add_argument("--out", type=Path, help="directory (default: BACKUP_DIR)")
    mongo_backup.add_argument("--keep", type=_positive, help="backups kept (default: BACKUP_KEEP)")
    restore = sub.add_parser("restore", help="restore a backup made by `quartet backup`")
    mongo_restore = restore.add_subparsers(dest="store", required=True).add_parser(
        "mongo", help="replace each collection in the backup (documents, validator, indexes)"
    )
    mongo_restore.add_argument("source", type=Path, help="a backup directory (mongo-<time>)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
    except ValidationError as error:
        print(f"invalid settings:\n{error}", file=sys.stderr)
        return 2
    if args.command == "serve":
        return _serve(args, settings)
    if args.command == "db":
        return _db(args, settings)
    if args.command == "schema":
        started = time.perf_counter()
        asyncio.run(_schema(settings))
        keyspace = settings.CASSANDRA_KEYSPACE
        print(
            f"cassandra schema applied to {keyspace}, mongodb validators and indexes to "
            f"{settings.MONGODB_DB} in {time.perf_counter() - started:.1f}s"
        )
        return 0
    if args.command == "check":
        return asyncio.run(_check(settings))
    if args.command in ("backup", "restore"):
        return _backup(args, settings)
    raise AssertionError(args.command)  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
