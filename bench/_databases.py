"""Named benchmark databases that outlive a run: a SQLite file under instance/ or a PG database."""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

from _harness import ROOT, migrate, run
from sqlalchemy.engine import make_url

# Another directory (BENCH_SQLITE_DIR) keeps a run's SQLite files out of instance/bench: the
# suite's smoke runs of the benches (tests/bench) must not replace a kept database.
BENCH_DIR = Path(os.environ.get("BENCH_SQLITE_DIR") or ROOT / "instance" / "bench")


def is_postgres(database: str | None) -> bool:
    return bool(database) and database.startswith("postgres")


def database_url(database: str | None, name: str) -> str:
    """The URL of benchmark database `name`: instance/bench/<name>.db, <name> on the PG server
    that `database` (postgresql://user@host[:port]) names, or `database` itself if SQLite."""
    if database and database.startswith("sqlite"):
        return database
    if not database:
        return f"sqlite:///{BENCH_DIR / name}.db"
    return make_url(database).set(database=name).render_as_string(hide_password=False)


def add_database_arguments(parser: argparse.ArgumentParser, pg_name: str) -> None:
    """`--postgres`, `--pg-name` and `--only`, as `both_databases` takes them."""
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--pg-name", default=pg_name, help="the PostgreSQL database")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])


def both_databases(
    sqlite_name: str, postgres: str, pg_name: str, only: str | None = None
) -> dict[str, str]:
    """The URLs a bench runs on, by dialect: instance/bench/<sqlite_name>.db and `pg_name` on
    the server `postgres` names; `only` one of them ("sqlite" or "postgresql")."""
    databases = {
        "sqlite": database_url(None, sqlite_name),
        "postgresql": database_url(postgres, pg_name),
    }
    return {only: databases[only]} if only else databases


def _pg_args(url: str) -> tuple[list[str], dict[str, str]]:
    parsed = make_url(url)
    args = ["-h", parsed.host or "127.0.0.1", "-p", str(parsed.port or 5432)]
    args += ["-U", parsed.username or "postgres"]
    return args, {**os.environ, "PGPASSWORD": parsed.password or ""}


def drop(url: str) -> None:
    """Remove the database (and a SQLite file's WAL and shared-memory files)."""
    if url.startswith("sqlite"):
        path = Path(make_url(url).database or "")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    args, env = _pg_args(url)
    run(["dropdb", "--if-exists", "--force", *args, make_url(url).database or ""], env)


def recreate(url: str) -> None:
    """An empty database at `url`, migrated to the head revision."""
    drop(url)
    if url.startswith("sqlite"):
        Path(make_url(url).database or "").parent.mkdir(parents=True, exist_ok=True)
    else:
        args, env = _pg_args(url)
        run(["createdb", *args, make_url(url).database or ""], env)
    upgrade(url)


def upgrade(url: str) -> None:
    migrate({**os.environ, "DATABASE_URL": url})


def size_mb(url: str) -> float:
    """The database's size on disk in MB."""
    if url.startswith("sqlite"):
        path = Path(make_url(url).database or "")
        return sum(
            Path(f"{path}{s}").stat().st_size for s in ("", "-wal") if Path(f"{path}{s}").exists()
        ) / (1024 * 1024)
    args, env = _pg_args(url)
    name = make_url(url).database
    query = f"SELECT pg_database_size('{name}')"
    output = run(["psql", *args, "-d", name or "", "-tAc", query], env)
    return int(output.strip()) / (1024 * 1024)


def clone(template: str, url: str) -> None:
    """A copy of the database `template` at `url` (PostgreSQL: `createdb -T`, which needs no
    one connected to the template; SQLite: its file, and its WAL if one is left)."""
    drop(url)
    if url.startswith("sqlite"):
        source, target = (Path(make_url(u).database or "") for u in (template, url))
        for suffix in ("", "-wal"):
            if Path(f"{source}{suffix}").exists():
                shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")
        return
    args, env = _pg_args(url)
    run(
        ["createdb", *args, "-T", make_url(template).database or "", make_url(url).database or ""],
        env,
    )
