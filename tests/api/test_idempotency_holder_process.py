"""On SQLite a reservation names the process that holds it (host, pid, start), and a repeat
takes it over once that process is gone and the grace has passed, instead of waiting out
IDEMPOTENCY_ABANDONED_AFTER (120 s) after a kill -9. PostgreSQL names the connection instead
(tests/api/test_idempotency_takeover.py)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import timedelta

import pytest
from flask import Flask, request

from leadsite.api import idempotency
from leadsite.api.idempotency import request_fingerprint
from leadsite.extensions import db
from leadsite.models import ApiKey, IdempotencyRecord
from tests.api.test_idempotency_reservations import (
    RAW,
    _leads,
    _reserve_as_another_request,
    _send,
)


@pytest.fixture(autouse=True)
def sqlite(app: Flask) -> None:
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite names the process that holds a reservation")


@pytest.fixture
def sleeper():
    """A live process of this host, killed at the end."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield process
    process.kill()
    process.wait()


def _reserve_for(app: Flask, api, key: str, process: dict, age=timedelta(seconds=30)) -> None:
    """The reservation `process` left while it registered, `age` ago."""
    _reserve_as_another_request(app, api, key, age, holder={"process": process})


def _named(pid: int, since: str | None = None) -> dict:
    if since is None:  # the process's start in ticks since boot: proc(5), /proc/<pid>/stat
        with open(f"/proc/{pid}/stat") as stat:
            since = stat.read().rsplit(")", 1)[1].split()[19]
    return {"host": socket.gethostname(), "pid": pid, "since": since}


def test_a_reservation_names_this_process(app, api):
    key_row = db.session.scalar(db.select(ApiKey).filter_by(workspace_id=api.workspace.id))
    with app.test_request_context(f"/api/v1/leads?ref={api.origin.ref}", method="POST", data=RAW):
        idempotency.reserve(key_row.id, "named-1", request_fingerprint(request))
    record = db.session.scalar(db.select(IdempotencyRecord).filter_by(key="named-1"))

    assert record.response_body == {"process": _named(os.getpid())}
    assert record.response_body["process"]["since"] is not None  # this machine is Linux


def test_a_killed_holder_s_reservation_is_taken_over_after_the_grace(
    app, api, monkeypatch, sleeper
):
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0.5)
    monkeypatch.setitem(app.config, "IDEMPOTENCY_HOLDER_GRACE", 5)
    _reserve_for(app, api, "killed-1", _named(sleeper.pid))

    while_alive = _send(api, "killed-1")
    sleeper.kill()
    sleeper.wait()
    after_kill = _send(api, "killed-1")
    again = _send(api, "killed-1")

    assert while_alive.status_code == 409
    assert while_alive.json["code"] == "IDEMPOTENCY_IN_PROGRESS"
    assert after_kill.status_code == 201, after_kill.json
    assert (again.status_code, again.json) == (201, after_kill.json)
    assert _leads() == 1


def test_a_young_reservation_of_a_killed_holder_is_waited_for(app, api, monkeypatch, sleeper):
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0.5)
    _reserve_for(app, api, "young-1", _named(sleeper.pid), age=timedelta(seconds=1))
    sleeper.kill()
    sleeper.wait()

    response = _send(api, "young-1")

    assert response.status_code == 409
    assert _leads() == 0


def test_a_pid_now_of_another_process_is_a_holder_gone(app, api, monkeypatch, sleeper):
    """The pid is there, but started at another time: the holder died and the pid was reused."""
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0.5)
    _reserve_for(app, api, "reused-1", _named(sleeper.pid, since="1"))

    assert _send(api, "reused-1").status_code == 201
    assert _leads() == 1


def test_a_holder_on_another_host_is_waited_for(app, api, monkeypatch):
    """Another host's process cannot be seen from here: its reservation waits the 120 s."""
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0.5)
    elsewhere = {"host": "another-host", "pid": 2**22 + 1, "since": "1"}
    _reserve_for(app, api, "elsewhere-1", elsewhere)

    assert _send(api, "elsewhere-1").status_code == 409
    assert _leads() == 0
