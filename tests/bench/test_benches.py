"""Every bench/*.py runs at its smallest and prints its figures: a change to the app that
breaks a bench fails here, not when someone next runs it by hand.

Each bench runs in one suite, its `home` (tests/bench/benches.py), on that suite's database: CI
runs the SQLite and the PostgreSQL suites side by side, and all of them in each would cost each
suite about two minutes of CPU (most benches cost 5-7 s at least: their processes import the
app, migrate a fresh database and make the demo workspace). BENCH_SMOKE=all runs every bench
the suite's database allows. The suite migrates one database for all of them, which each bench
copies instead of migrating its own (`migrated_template`).

On SQLite each bench keeps its files in the test's tmp_path (BENCH_SQLITE_DIR); on PostgreSQL
in databases of its own, named `<test database>_bench_<bench>...` (BENCH_PG_DATABASE,
`--pg-name`), dropped after it. None touches the suite's test database."""

from __future__ import annotations

import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from leadsite.config import database_url
from tests.bench.benches import BENCHES, NOT_RUN, Where

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted(
    path.stem
    for path in (ROOT / "bench").glob("*.py")
    if not path.stem.startswith("_") and not path.stem.endswith("_app")
)


DIALECT = "postgresql" if os.environ.get("TEST_DATABASE_URL") else "sqlite"
HERE = sorted(
    name
    for name, spec in BENCHES.items()
    if spec.home == DIALECT
    or (
        os.environ.get("BENCH_SMOKE") == "all"
        and not (spec.postgresql_only and DIALECT == "sqlite")
    )
)


def test_every_bench_is_run_or_says_why_not() -> None:
    """A new bench gets a line in tests/bench/benches.py (and a gone one loses its line)."""
    assert sorted([*BENCHES, *NOT_RUN]) == SCRIPTS
    assert {spec.home for spec in BENCHES.values()} <= {"sqlite", "postgresql"}
    assert all(spec.home == "postgresql" for spec in BENCHES.values() if spec.postgresql_only)


def _admin(server: str) -> psycopg.Connection:
    url = make_url(server)
    return psycopg.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password or "",
        dbname="postgres",
        autocommit=True,
    )


def _drop_databases(server: str, prefix: str) -> None:
    with _admin(server) as connection:
        names = connection.execute(
            "SELECT datname FROM pg_database WHERE left(datname, %s) = %s",
            (len(prefix), prefix),
        ).fetchall()
        for (name,) in names:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _bench_env() -> dict[str, str]:
    """The suite's environment without its databases, Redis and mail: a bench names its own."""
    return {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "TEST_DATABASE_URL", "REDIS_URL", "MAIL_URL")
    }


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One database migrated to the head revision for all the benches (a SQLite file, or
    `<test database>_benchtemplate` on PostgreSQL), which each copies where it migrated its own
    (BENCH_MIGRATED_TEMPLATE, bench/_harness.py `migrate`): one `flask db upgrade` for the
    suite instead of one or more a bench."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        server = database_url(url).replace("postgresql+psycopg://", "postgresql://", 1)
        name = f"{make_url(server).database}_benchtemplate"
        template = make_url(server).set(database=name).render_as_string(False)
        _drop_databases(server, name)
        with _admin(server) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
    else:
        template = f"sqlite:///{tmp_path_factory.mktemp('bench-template') / 'template.db'}"
    try:
        subprocess.run(
            [str(Path(sys.executable).parent / "flask"), "--app", "app", "db", "upgrade"],
            cwd=ROOT,
            env={**_bench_env(), "DATABASE_URL": template},
            capture_output=True,
            check=True,
        )
        yield template
    finally:
        if url:
            _drop_databases(server, name)


@pytest.fixture
def where(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Where]:
    """SQLite files in tmp_path, or PostgreSQL databases named after the test database's, all
    dropped afterwards."""
    bench = request.node.callspec.params["bench"]
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        yield Where(tmp_path)
        return
    server = database_url(url).replace("postgresql+psycopg://", "postgresql://", 1)
    test_database = make_url(server).database
    prefix = f"{test_database}_bench_{bench}"
    _drop_databases(server, prefix)
    if BENCHES[bench].made_database:
        with _admin(server) as connection:
            connection.execute(f'CREATE DATABASE "{prefix}"')
    try:
        yield Where(tmp_path, server, prefix)
    finally:
        _drop_databases(server, prefix)


def _run(command: list[str], env: dict[str, str], timeout: float) -> tuple[int, str, str, float]:
    """Run the bench in a session of its own (its servers and workers with it); on a timeout,
    kill them all. Returns its exit status, output and the CPU seconds of its processes."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        err += f"\n(killed after {timeout:.0f} s)"
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return process.returncode, out, err, cpu


@pytest.mark.parametrize("bench", HERE)
def test_bench_runs_and_prints_its_figures(
    bench: str, where: Where, migrated_template: str
) -> None:
    spec = BENCHES[bench]
    for tool in spec.needs:
        if shutil.which(tool) is None:
            pytest.skip(f"{bench}.py needs {tool}, not installed here (.ci/run installs it)")
    env = _bench_env() | {"BENCH_SQLITE_DIR": str(where.tmp), "PYTHONUNBUFFERED": "1"}
    env["BENCH_MIGRATED_TEMPLATE"] = migrated_template
    if where.server:
        env["BENCH_PG_DATABASE"] = where.prefix
    script = str(ROOT / "bench" / f"{bench}.py")
    command = [sys.executable, script, *spec.database(where), *spec.small]

    started = time.monotonic()
    status, out, err, cpu = _run(command, env, spec.timeout)
    seconds = time.monotonic() - started

    shown = f"$ {' '.join(command[1:])}\n--- stdout\n{out[-4000:]}\n--- stderr\n{err[-4000:]}"
    print(f"{bench}.py on {where.dialect}: {seconds:.1f} s, {cpu:.1f} s of CPU")
    if status != 0:
        pytest.fail(f"{bench}.py exited {status} on {where.dialect}\n{shown}", pytrace=False)
    missing = [
        pattern
        for pattern in (p.replace("{dialect}", where.dialect) for p in spec.prints)
        if not re.search(pattern, out, re.MULTILINE)
    ]
    if missing:
        pytest.fail(f"{bench}.py printed no line matching {missing}\n{shown}", pytrace=False)
