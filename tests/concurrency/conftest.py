"""A real server as a subprocess (gunicorn sync, gunicorn gthread, or `flask run` threaded)
on the test database, with a worker running journey steps and deliveries beside it, and a
client that sends requests all at once.

A test builds its world first, then starts the server with `serve`: on SQLite, rows written by
the test while the server's worker polls could meet its write lock.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.servers import PROCESS_START_SECONDS, eventually

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

# How each kind of server is started, and whether the worker runs inside it (as under
# `make run`) or as a process of its own (as in production).
# Gunicorn preloads the app: its workers fork ready, which keeps the start of each test short.
# No control socket: its default path is one per user, shared with any other gunicorn running.
# Every process exits without the interpreter's finalization once done (`quick_exit`): the stop
# of a gunicorn test, 5-13 s, is now under a second.
QUICK_EXIT = Path(__file__).with_name("quick_exit.py")
GUNICORN = [str(BIN / "gunicorn"), "--preload", "--no-control-socket", "--config", str(QUICK_EXIT)]
FLASK = [sys.executable, "-m", "tests.concurrency.quick_exit", "--app", "app"]
KINDS: dict[str, tuple[list[str], bool]] = {
    "gunicorn-sync": ([*GUNICORN, "--workers", "3", "--worker-class", "sync"], False),
    "gunicorn-gthread": (
        [*GUNICORN, "--workers", "2", "--worker-class", "gthread", "--threads", "16"],
        False,
    ),
    "flask-run": ([*FLASK, "run", "--with-threads"], True),
}


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class LiveServer:
    kind: str
    url: str

    def post_all(
        self, path: str, bodies: list[Any], headers: dict[str, str], form: bool = False
    ) -> list[Answer]:
        """POST each body (JSON, or a form as browsers send it, or bytes as they are) at the
        same moment, one thread and connection each."""
        start = threading.Barrier(len(bodies))
        content_type = "application/x-www-form-urlencoded" if form else "application/json"

        def post(body: Any) -> Answer:
            if not isinstance(body, bytes):
                body = (urllib.parse.urlencode(body) if form else json.dumps(body)).encode()
            request = urllib.request.Request(
                self.url + path,
                data=body,
                headers={"Content-Type": content_type, **headers},
                method="POST",
            )
            start.wait()
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    return _answer(response.status, response.read(), response.headers)
            except urllib.error.HTTPError as error:
                return _answer(error.code, error.read(), error.headers)

        with ThreadPoolExecutor(len(bodies)) as pool:
            return list(pool.map(post, bodies))


def _answer(status: int, raw: bytes, headers: Any) -> Answer:
    try:
        body = json.loads(raw)
    except ValueError:  # a page
        body = {"html": raw.decode(errors="replace")}
    return Answer(status, body, dict(headers))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/readyz", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def _stop(processes: list[subprocess.Popen]) -> None:
    """Signal every process, then wait for them: the server's and the worker's shutdowns (2-7 s
    each at CI's load) overlap."""
    for index, process in enumerate(processes):
        if process.poll() is None:
            # SIGINT: gunicorn's quick shutdown (SIGTERM waits for idle keep-alive workers).
            process.send_signal(signal.SIGINT if index == 0 else signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def serve(
    app: Flask, kind: str, logs: Path, env: dict[str, str] | None = None
) -> Iterator[LiveServer]:
    """The app served by a real server of this kind (and its worker), on the test database,
    with `env` added to its environment (`MAIL_URL`: a test's SMTP server); stopped at the
    end, when its log must hold no traceback and no deadlock."""
    command, inline_worker = KINDS[kind]
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    extra = env or {}
    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "MAIL_URL")}
    env.update(
        {
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "SECRET_KEY": "test-secret",
            "BASE_URL": url,
            "WEBHOOK_ALLOW_PRIVATE": "1",
            "LEADSITE_INLINE_WORKER": "1" if inline_worker else "0",
            # Bursts of one client from one address: the limits are not what is tested here.
            "API_RATE_LIMIT": "100000 per second",
            "API_IP_RATE_LIMIT": "100000 per second",
            "PUBLIC_FORM_RATE_LIMIT": "100000 per second",
            "FLASK_RUN_PORT": str(port),
            **extra,
        }
    )
    if kind.startswith("gunicorn"):
        command = [*command, "--bind", f"127.0.0.1:{port}", "app:app"]
    log_path = logs / f"{kind}.log"
    log = log_path.open("wb")
    processes = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)]
    if not inline_worker:
        worker = [*FLASK, "leadsite", "worker"]
        processes.append(subprocess.Popen(worker, cwd=ROOT, env=env, stdout=log, stderr=log))
    try:
        if not eventually(lambda: _ready(url), timeout=PROCESS_START_SECONDS):
            pytest.fail(f"{kind} did not start: {log_path.read_text()[-2000:]}")
        yield LiveServer(kind, url)
    finally:
        _stop(processes)
        log.close()
    errors = logged_errors(log_path.read_text())
    assert errors == [], f"{kind} logged errors:\n" + "\n\n".join(errors)


def logged_errors(log: str) -> list[str]:
    """The log's tracebacks, whole, and its lines that speak of a deadlock; but not a gunicorn
    worker's exit at the quick stop above: SIGINT raises SystemExit in its `handle_quit`
    wherever the worker is, even in the last `sendall` of a response its client already read
    (the test's last request, answered, and the stop sent at once)."""
    errors: list[str] = []
    lines = log.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if "Traceback (most recent call last)" not in line:
            if "deadlock" in line.lower():
                errors.append(line)
            continue
        block = [line]
        while index < len(lines) and lines[index].startswith(" "):
            block.append(lines[index])
            index += 1
        if index < len(lines):
            block.append(lines[index])  # the exception
            index += 1
        quit_ = block[-1] == "SystemExit: 0" and any("in handle_quit" in b for b in block)
        if not quit_:
            errors.append("\n".join(block))
    return errors
