"""Benchmark plumbing: fresh databases, gunicorn servers, wrk runs and their parsed results."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the venv's bin/, when run with .venv/bin/python
WRK_SCRIPT = Path(__file__).resolve().parent / "register.lua"
# Another name (BENCH_PG_DATABASE) lets two sessions measure on one server at once.
PG_BENCH_DATABASE = os.environ.get("BENCH_PG_DATABASE", "leadsite_bench")


class BenchError(RuntimeError):
    """A benchmark that cannot run or whose result is invalid."""


@dataclass
class WrkResult:
    requests: int
    duration_s: float
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    non_2xx_by_status: dict[str, int] = field(default_factory=dict)
    # CPU the service spent per request (its gunicorn processes and its database's PostgreSQL
    # backends; see `ServiceCpu`), when measured.
    cpu_ms_per_request: float | None = None

    @property
    def failed_fraction(self) -> float:
        return (self.non_2xx + self.socket_errors) / max(self.requests, 1)


class ServiceCpu:
    """CPU time (user + system) of the processes that serve a benchmark: every process whose
    command line names its gunicorn's address, and the PostgreSQL backends connected to its
    database. Unlike requests a second, it hardly changes with what else loads the machine, so
    two variants of the app compare even on a busy machine. Read from /proc (Linux)."""

    TICKS = os.sysconf("SC_CLK_TCK")

    def __init__(self, gunicorn_bind: str, database: str | None = None) -> None:
        self.needles = [gunicorn_bind.encode()]
        if database:
            self.needles.append(
                f": postgres {database} ".encode()
            )  # "postgres: 15/main: postgres db …"
        self.start = self._ticks()

    def spent_s(self) -> float:
        """Seconds of CPU since this was made (a process gone meanwhile is not counted)."""
        now = self._ticks()
        return sum(t - self.start.get(pid, 0) for pid, t in now.items()) / self.TICKS

    def _ticks(self) -> dict[int, int]:
        found: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
                if not any(needle in cmdline for needle in self.needles):
                    continue
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # gone meanwhile
                continue
            found[int(entry.name)] = int(fields[11]) + int(fields[12])  # utime, stime
        return found


def source_version() -> str:
    """The commit being measured, flagged when the app's files differ from it."""
    git = ["git", "-C", str(ROOT)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    if head.returncode != 0:
        return "unknown (not a git checkout)"
    changed = subprocess.run(
        [*git, "status", "--porcelain", "--", "leadsite", "app.py", "migrations"],
        capture_output=True,
        text=True,
    ).stdout
    return head.stdout.strip() + (" + uncommitted changes" if changed.strip() else "")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(command: Sequence[str], env: Mapping[str, str]) -> str:
    """Run a set-up command in the repository; return its stdout, or raise with its output."""
    done = subprocess.run(command, cwd=ROOT, env=dict(env), capture_output=True, text=True)
    if done.returncode != 0:
        raise BenchError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


# Rate limits an in-process benchmark checks but never reaches, and no worker beside it.
IN_PROCESS_ENV = {
    "API_RATE_LIMIT": "100000 per second",
    "API_IP_RATE_LIMIT": "100000 per second",
    "LEADSITE_INLINE_WORKER": "0",
}


# A database already migrated to the head revision (a SQLite file's or a PostgreSQL URL), that
# `migrate` copies instead of running the migrations: tests/bench makes one per suite, as each
# bench migrating its own fresh database cost seconds of CPU (a process importing the app, then
# every revision) several times a bench. Unset, as when a person runs a bench, it migrates.
TEMPLATE = os.environ.get("BENCH_MIGRATED_TEMPLATE")


def migrate(env: Mapping[str, str]) -> None:
    """Bring the new, empty database `env["DATABASE_URL"]` names to the head revision: a copy of
    BENCH_MIGRATED_TEMPLATE when one of its kind is given, else `flask db upgrade`."""
    url = env["DATABASE_URL"]
    same_kind = TEMPLATE and TEMPLATE.startswith("sqlite") == url.startswith("sqlite")
    template = TEMPLATE if same_kind else None
    if template is None:
        run([str(BIN / "flask"), "--app", "app", "db", "upgrade"], env)
    elif url.startswith("sqlite"):
        source, target = (Path(make_url(u).database or "") for u in (template, url))
        target.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):  # a WAL left beside either, copied or removed
            Path(f"{target}{suffix}").unlink(missing_ok=True)
            if suffix != "-shm" and Path(f"{source}{suffix}").exists():
                shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")
    else:  # CREATE DATABASE ... TEMPLATE, in place of the empty database made for it
        parsed = make_url(url)
        args = ["-h", parsed.host or "127.0.0.1", "-p", str(parsed.port or 5432)]
        args += ["-U", parsed.username or "postgres"]
        pg_env = {**os.environ, "PGPASSWORD": parsed.password or ""}
        name = parsed.database or ""
        run(["dropdb", "--if-exists", "--force", *args, name], pg_env)
        run(["createdb", *args, "-T", make_url(template).database or "", name], pg_env)


def demo_in_process(env: Mapping[str, str]) -> dict:
    """Migrate the database `env` names and make the demo workspace in it, then take `env` into
    this process (and the repository onto its path) so that the app can be imported here;
    return the demo's keys and references (`leadsite demo --json`)."""
    flask = [str(BIN / "flask"), "--app", "app"]
    migrate(env)
    demo = json.loads(run([*flask, "leadsite", "demo", "--json"], env).splitlines()[-1])
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    return demo


@contextmanager
def fresh_database(database: str | None, workdir: Path, name: str) -> Iterator[str]:
    """Yield the URL of an empty database: a SQLite file in workdir, or leadsite_bench on PG."""
    if not database or database.startswith("sqlite"):
        yield f"sqlite:///{workdir / name}.db"
        return
    url = make_url(database).set(database=PG_BENCH_DATABASE)
    args = ["-h", url.host or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or ""]
    env = {**os.environ, "PGPASSWORD": url.password or ""}
    run(["dropdb", "--if-exists", "--force", *args, PG_BENCH_DATABASE], env)
    run(["createdb", *args, PG_BENCH_DATABASE], env)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        run(["dropdb", "--if-exists", "--force", *args, PG_BENCH_DATABASE], env)


@contextmanager
def gunicorn(
    app: str, env: Mapping[str, str], port: int, log: Path, workers: int = 2
) -> Iterator[str]:
    """Serve `app` under gunicorn on 127.0.0.1:port until /healthz answers; stop it on exit."""
    command = [str(BIN / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}"]
    command += ["--log-level", "warning", "--pythonpath", str(ROOT / "bench"), app]
    base_url = f"http://127.0.0.1:{port}"
    with log.open("w") as log_file:
        process = subprocess.Popen(
            command, cwd=ROOT, env=dict(env), stdout=log_file, stderr=subprocess.STDOUT
        )
        try:
            _wait_healthy(base_url, process, log)
            yield base_url
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_healthy(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120  # a busy machine starts gunicorn slowly
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"gunicorn exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:  # refused while binding, or a timeout while the workers boot
            pass
        time.sleep(0.1)
    raise BenchError(f"{base_url}/healthz did not answer within 120 s:\n{log.read_text()}")


def preflight(url: str, headers: Mapping[str, str], run_id: str) -> None:
    """POST one lead the way the wrk script does; anything but 201 stops the benchmark."""
    body = json.dumps({"email": f"preflight-{run_id}@example.com", "first_name": "Bench"})
    req = urllib.request.Request(
        url,
        data=body.encode(),
        method="POST",
        headers={**headers, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as answer:
            status, text = answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode()
    if status != 201:
        raise BenchError(f"POST {url} answered {status}, not 201:\n{text[:2000]}")


def wrk(
    url: str,
    headers: Mapping[str, str],
    run_id: str,
    duration: int,
    connections: int,
    threads: int,
) -> WrkResult:
    """Drive POSTs at url with wrk and bench/register.lua; parse the script's BENCH line."""
    binary = shutil.which("wrk")
    if binary is None:
        raise BenchError("wrk is not installed: apt-get install wrk")
    command = [binary, "--latency", "--timeout", "30s", "-s", str(WRK_SCRIPT)]
    command += ["-d", f"{duration}s", "-c", str(connections), "-t", str(threads)]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command += [url, "--", run_id]
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 120)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH "):
            return WrkResult(**json.loads(line.removeprefix("BENCH ")))
    raise BenchError(f"wrk printed no BENCH line (exit {done.returncode}):\n{done.stdout}")


def lead_inputs(
    prefix: str, start: int, count: int, phones: float = 0.0, columns: bool = False
) -> list[Any]:
    """`count` new people's `LeadInput`s, numbered from `start` (the import benches' rows:
    email, names and a company custom field); with `phones`, that share of them also has a
    phone (`bench_phone`); with `columns`, each also a status and two journey data values (a
    list with a status column and two `data:` columns, the demo workspace's data points).
    Import after the app's environment is set."""
    from leadsite.registration import LeadInput
    from leadsite.registration.inputs import JourneyDataInput

    every = round(1 / phones) if phones else 0
    return [
        LeadInput(
            email=f"{prefix}{n}@example.com",
            first_name=f"First{n}",
            last_name=f"Last{n}",
            phone=bench_phone(next(_PHONES)) if every and n % every == 0 else None,
            custom_fields={"company": f"Company {n % 97}"},
            status=("new", "contacted")[n % 2] if columns else None,
            journey_data=[
                JourneyDataInput("company", f"Company {n % 97}"),
                JourneyDataInput("team_size", str(n % 50 + 1)),
            ]
            if columns
            else [],
        )
        for n in range(start, start + count)
    ]


_PHONES = itertools.count()  # a process's phones are all different: a lead's is unique


def bench_phone(serial: int) -> str:
    """A US number written nationally, as a list has them (read with the workspace's country),
    different for each `serial` below 7,000,000; one in four in area code 555, possible but
    not assigned (`values.phone` keeps it, the event says so)."""
    area = "555" if serial % 4 == 3 else "202"
    exchange = 200 + serial // 10_000 % 700
    return f"({area}) {exchange}-{serial % 10_000:04d}"
