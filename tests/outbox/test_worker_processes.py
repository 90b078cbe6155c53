"""Real worker processes: killed mid-delivery they lose nothing; two never share a message."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from leadsite.extensions import db
from leadsite.models import MessageStatus, OutboxMessage
from tests.outbox import queue_events
from tests.servers import PROCESS_START_SECONDS, eventually, webhook_receiver

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def worker_process(app, lease_seconds: int = 60) -> Iterator[subprocess.Popen]:
    """`flask leadsite worker` on the test database, yielded once it has started (its log says
    "worker started"): a test's wait for its work must not also pay for its start, which
    under load took most of the 30 s a test gave the work (`test_lead_import_job`)."""
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": "test-secret",
        "WEBHOOK_ALLOW_PRIVATE": "1",
        "WORKER_LEASE_SECONDS": str(lease_seconds),
        "LEADSITE_INLINE_WORKER": "0",
    }
    with tempfile.TemporaryDirectory(prefix="worker-") as logs:
        log_path = Path(logs) / "worker.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "app", "leadsite", "worker"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                started = eventually(
                    lambda: (
                        process.poll() is not None
                        or "worker started" in log_path.read_text(errors="replace")
                    ),
                    timeout=PROCESS_START_SECONDS,
                )
                if not started or process.poll() is not None:
                    pytest.fail(f"the worker did not start: {log_path.read_text()[-2000:]}")
                yield process
            finally:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
                    process.wait(timeout=15)


def _statuses() -> Counter:
    db.session.rollback()  # a fresh snapshot: the workers write from other processes
    return Counter(db.session.scalars(db.select(OutboxMessage.status)))


def test_a_worker_killed_mid_delivery_leaves_the_message_for_the_next_worker(app):
    with webhook_receiver(delay=2.0) as receiver:
        queue_events(1, receiver.url)
        with worker_process(app, lease_seconds=3) as first:
            receiver.wait_for(1, timeout=20)  # the receiver has the request, the worker waits
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=5)
        assert _statuses() == Counter({MessageStatus.PENDING: 1})

        with worker_process(app, lease_seconds=3):
            assert eventually(
                lambda: _statuses() == Counter({MessageStatus.DELIVERED: 1}), timeout=30
            )
        requests = receiver.requests

    assert len(requests) == 2
    assert requests[0].headers["webhook-id"] == requests[1].headers["webhook-id"]


def test_sigterm_lets_the_worker_finish_the_message_in_hand(app):
    with webhook_receiver(delay=1.5) as receiver:
        queue_events(1, receiver.url)
        with worker_process(app) as worker:
            receiver.wait_for(1, timeout=20)
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=15) == 0

    assert _statuses() == Counter({MessageStatus.DELIVERED: 1})


def test_two_workers_never_deliver_the_same_message(app):
    with webhook_receiver(delay=0.02) as receiver:
        queue_events(60, receiver.url)
        with worker_process(app), worker_process(app):
            assert eventually(
                lambda: _statuses() == Counter({MessageStatus.DELIVERED: 60}), timeout=60
            )
        ids = [request.headers["webhook-id"] for request in receiver.requests]

    assert len(ids) == 60
    assert len(set(ids)) == 60  # each message once: no two workers held the same one
