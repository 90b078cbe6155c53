"""Real processes for the operator's tests: the app under gunicorn, a Redis of its own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask

from tests.servers import PROCESS_START_SECONDS, eventually, free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@dataclass
class Served:
    url: str
    log: Path

    def logged(self) -> str:
        return self.log.read_text(errors="replace")


def stop(process: subprocess.Popen, sig: int, timeout: float) -> None:
    """Send `sig`; after `timeout` seconds kill the process's whole group (started with
    `start_new_session=True`)."""
    process.send_signal(sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def gunicorn(
    app: Flask, log: Path, workers: int = 1, config: bool = False, **env: str
) -> Iterator[Served]:
    """`app:app` under gunicorn (gthread) on the test database and a free port, with `env`;
    with `config`, the settings of deploy/gunicorn.conf.py (its hooks) under the test's own."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    environment = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "MAIL_URL")}
    environment.update(
        {
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "SECRET_KEY": "test-secret",
            "BASE_URL": url,
            "LEADSITE_INLINE_WORKER": "0",
            **env,
        }
    )
    command = [
        str(BIN / "gunicorn"),
        *(("--config", str(ROOT / "deploy" / "gunicorn.conf.py")) if config else ()),
        "--no-control-socket",
        *("--workers", str(workers), "--worker-class", "gthread", "--threads", "4"),
        *("--bind", f"127.0.0.1:{port}", "app:app"),
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=output,
            start_new_session=True,  # its own process group: stopped whole below
        )
        try:
            if not eventually(lambda: _answers(url + "/readyz"), timeout=PROCESS_START_SECONDS):
                pytest.fail(f"gunicorn did not start: {log.read_text()[-2000:]}")
            yield Served(url, log)
        finally:
            # Quick shutdown; what is still exiting after a second (its writer threads'
            # last flush, seconds on a loaded machine) is not what these tests look at.
            stop(process, signal.SIGINT, timeout=1)


@contextmanager
def redis_server(port: int, log: Path) -> Iterator[subprocess.Popen]:
    """A Redis of the test's own on `port` (nothing saved), stopped at the end."""
    import redis

    with log.open("ab") as output:
        process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=output,
            stderr=output,
        )
        try:
            client = redis.Redis(port=port, socket_connect_timeout=0.2)
            if not eventually(lambda: _pings(client), timeout=10):
                pytest.fail(f"redis-server did not start: {log.read_text()[-2000:]}")
            yield process
        finally:
            process.terminate()
            process.wait(timeout=10)


def _pings(client) -> bool:
    import redis

    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
