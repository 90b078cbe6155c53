"""The previous release for tests/operations/test_previous_release.py: which commit it is, its
code exported from git, a database of its own, and its web and worker processes.

The previous release is `PREVIOUS_RELEASE` (any git revision) or, by default, the newest commit
on this checkout's first-parent history whose migrations end at other heads than the working
tree's: the code that last ran on the schema before this one's migrations changed it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import tarfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from leadsite.config import database_url
from tests.operations.processes import BIN, ROOT, _answers, stop
from tests.servers import PROCESS_START_SECONDS, eventually, free_port

VERSIONS = "migrations/versions"
# `revision = '0009_idem'`, `down_revision = ('a', 'b')`: the lines Alembic's files start with.
REVISION_LINE = re.compile(r"^(down_revision|revision)\s*=\s*(.+)$", re.MULTILINE)
QUOTED = re.compile(r"""['"]([^'"]+)['"]""")
# `sqlalchemy.exc.ProgrammingError: (psycopg.errors.UndefinedColumn) column ...`, and the
# warnings that quote one (leadsite.outages: "database unavailable: (sqlite3.OperationalError)").
ERROR_LINE = re.compile(r"(\wError|\wException|\.Undefined\w+)\)?:? ")


@dataclass(frozen=True)
class Release:
    commit: str
    subject: str
    heads: frozenset[str]

    def __str__(self) -> str:
        return f"{self.commit[:10]} ({self.subject}; migrations at {', '.join(sorted(self.heads))})"


def git(*args: str, root: Path = ROOT, found: bool = True) -> str:
    """git's output in `root`; with `found=False`, a search that finds nothing (exit status 1
    and no message, as `git grep`'s) is empty output, not an error."""
    result = subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, timeout=60, check=False
    )
    if not found and result.returncode == 1 and not result.stderr:
        return ""
    if result.returncode != 0:
        raise GitError(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


class GitError(Exception):
    pass


def heads_of(sources: list[str]) -> frozenset[str]:
    """The revisions no other migration revises, read from the migration files' text."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for source in sources:
        for name, value in REVISION_LINE.findall(source):
            (revisions if name == "revision" else revised).update(QUOTED.findall(value))
    return frozenset(revisions - revised)


def working_tree_heads(root: Path = ROOT) -> frozenset[str]:
    return heads_of([path.read_text() for path in (root / VERSIONS).glob("*.py")])


def commit_heads(commit: str, root: Path = ROOT) -> frozenset[str]:
    pattern = r"^(down_)?revision\s*="
    lines = git(
        "grep", "-h", "-E", pattern, commit, "--", f"{VERSIONS}/*.py", root=root, found=False
    )
    return heads_of([lines])


def release(revision: str, root: Path = ROOT) -> Release:
    commit = git("rev-parse", "--verify", f"{revision}^{{commit}}", root=root).strip()
    subject = git("log", "-1", "--format=%s", commit, root=root).strip()
    return Release(commit, subject[:80], commit_heads(commit, root))


def previous_release(root: Path = ROOT) -> Release:
    """`PREVIOUS_RELEASE`, else the newest first-parent commit whose migration heads differ
    from the working tree's (HEAD itself when the working tree adds a migration)."""
    if chosen := os.environ.get("PREVIOUS_RELEASE"):
        return release(chosen, root)
    current = working_tree_heads(root)
    if commit_heads("HEAD", root) != current:
        return release("HEAD", root)
    newest_same = "HEAD"
    log = ("log", "--first-parent", "--format=%H", "HEAD", "--", VERSIONS)
    for commit in git(*log, root=root).split():
        if commit_heads(commit, root) != current:
            break
        newest_same = commit
    try:
        return release(f"{newest_same}^1", root)
    except GitError as error:
        raise GitError(
            f"no commit before {newest_same[:10]} in this checkout's history ({error}): a "
            "shallow clone? Fetch the history (git fetch --unshallow) or set PREVIOUS_RELEASE"
        ) from error


def export(commit: str, destination: Path) -> Path:
    """The commit's files (as `git archive` writes them) under `destination`."""
    archive = destination.with_suffix(".tar")
    subprocess.run(
        ["git", "archive", "--format=tar", f"--output={archive}", commit],
        cwd=ROOT,
        check=True,
        timeout=120,
    )
    destination.mkdir()
    with tarfile.open(archive) as tar:
        tar.extractall(destination, filter="data")
    archive.unlink()
    return destination


@contextmanager
def fresh_database(tmp_path: Path) -> Iterator[str]:
    """An empty database: a new PostgreSQL database on `TEST_DATABASE_URL`'s server (dropped
    afterwards), else a SQLite file."""
    test_url = os.environ.get("TEST_DATABASE_URL")
    if not test_url:
        yield f"sqlite:///{tmp_path / 'upgraded.db'}"
        return
    server = make_url(database_url(test_url))
    name = f"{server.database}_prev_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def old_environment(tree: Path, url: str, base_url: str) -> dict[str, str]:
    """The old code first on the path (before this checkout's editable install), on `url`."""
    environment = {
        k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "MAIL_URL", "PYTHONPATH")
    }
    environment.update(
        {
            "PYTHONPATH": str(tree),
            "DATABASE_URL": url,
            "SECRET_KEY": "test-secret",
            "BASE_URL": base_url,
            "LEADSITE_INLINE_WORKER": "0",
            "WEBHOOK_ALLOW_PRIVATE": "1",
        }
    )
    return environment


@dataclass
class Running:
    """The previous release's processes: its web server's URL and both logs."""

    url: str
    web_log: Path
    worker_log: Path

    def up(self) -> None:
        if not eventually(lambda: _answers(self.url + "/healthz"), timeout=PROCESS_START_SECONDS):
            pytest.fail(f"the previous release's web did not start:{self.logged()}")

    def logged(self) -> str:
        """For a failure's message: the errors both logs name (a column the old code misses
        is named there), then their last lines."""
        logs = {"web": self.web_log.read_text(errors="replace")}
        logs["worker"] = self.worker_log.read_text(errors="replace")
        errors = dict.fromkeys(
            line.strip()[:300]
            for text in logs.values()
            for line in text.splitlines()
            if ERROR_LINE.search(line) and not line.lstrip().startswith("File ")
        )
        found = "".join(f"\n  {line}" for line in list(errors)[:6]) or " none"
        return (
            f"\nErrors in the previous release's logs:{found}\n"
            "(Does a migration of this release drop or rename what that code uses? Contract in "
            "a later release: docs/operations.md, Upgrades without downtime)"
            + "".join(
                f"\n--- the previous release's {name} log (last lines) ---\n{text[-1500:]}"
                for name, text in logs.items()
            )
        )


@contextmanager
def old_processes(tree: Path, url: str, logs: Path) -> Iterator[Running]:
    """The old release's web (gunicorn, its app.py) and worker processes on `url`, started
    (`Running.up` waits until the web answers)."""
    port = free_port()
    served = Running(f"http://127.0.0.1:{port}", logs / "old-web.log", logs / "old-worker.log")
    environment = old_environment(tree, url, served.url)
    web_command = [
        *(str(BIN / "gunicorn"), "--no-control-socket", "--worker-class", "gthread"),
        *("--workers", "1", "--threads", "4", "--bind", f"127.0.0.1:{port}", "app:app"),
    ]
    worker_command = [str(BIN / "flask"), "--app", "app", "leadsite", "worker"]
    with (
        served.web_log.open("wb") as web_log,
        served.worker_log.open("wb") as worker_log,
    ):
        web = _start(web_command, tree, environment, web_log)
        worker = _start(worker_command, tree, environment, worker_log)
        try:
            yield served
        finally:
            for process in (web, worker):
                stop(process, signal.SIGTERM, timeout=5)


def _start(command: list[str], tree: Path, environment: dict, log) -> subprocess.Popen:
    return subprocess.Popen(
        command, cwd=tree, env=environment, stdout=log, stderr=log, start_new_session=True
    )
