"""An idle worker on PostgreSQL is woken by the commit of new work (LISTEN/NOTIFY), not by its
poll; it goes on polling when it loses that connection, and comes back to it. On SQLite it polls."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import psycopg
import pytest
from flask import Flask

from leadsite.database import begin_write_transaction
from leadsite.extensions import db
from leadsite.models import ActivityKind, Channel, Lead, MessageStatus, OutboxMessage, utcnow
from leadsite.outbox import worker
from leadsite.outbox.events import EventWriter
from leadsite.outbox.listener import APPLICATION_NAME, Listener
from leadsite.outbox.manage import redeliver
from leadsite.outbox.wake import CHANNEL
from tests import factories
from tests.outbox import queue_events
from tests.servers import WebhookReceiver, eventually, webhook_receiver


@pytest.fixture
def postgres(app: Flask) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite workers poll (tested below)")


@contextmanager
def running_worker(app: Flask, idle_seconds: float) -> Iterator[None]:
    """`worker.run` in a thread, as `leadsite worker` runs it; stopped and joined on exit."""
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(app, stop, idle_seconds), daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)
        assert not thread.is_alive()


def listener_pids() -> list[int]:
    """The backends of this database's workers that LISTEN."""
    db.session.rollback()
    db.session.expire_all()
    return list(
        db.session.scalars(
            db.text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND application_name = :name AND query LIKE 'LISTEN%'"
            ),
            {"name": APPLICATION_NAME},
        )
    )


def wait_listening(count: int = 1) -> list[int]:
    assert eventually(lambda: len(listener_pids()) == count, timeout=10)
    time.sleep(0.3)  # the worker's first look for work is over: it is waiting
    return listener_pids()


def seconds_to_arrive(receiver: WebhookReceiver, count: int, committed_at: float) -> float:
    receiver.wait_for(count, timeout=10)
    assert len(receiver.requests) >= count
    return time.monotonic() - committed_at


def test_an_idle_worker_is_woken_by_the_commit_not_its_poll(app, postgres):
    with webhook_receiver() as receiver, running_worker(app, idle_seconds=30):
        wait_listening()
        queue_events(1, receiver.url)  # messages written by the ORM's flush
        assert seconds_to_arrive(receiver, 1, time.monotonic()) < 1.0

        time.sleep(0.3)
        ws = factories.workspace("Acme")
        factories.webhook_endpoint(ws, receiver.url, events=["lead.created"], secret=None)
        org = factories.origin(factories.funnel(ws))
        factories.registered(org, email="ada@example.com")  # the pipeline's `NewRows`
        assert seconds_to_arrive(receiver, 2, time.monotonic()) < 1.0
        assert b"ada@example.com" in receiver.requests[1].body

        time.sleep(0.3)
        funnel = factories.funnel(ws, name="Synced")
        factories.activity(factories.stage(funnel, "Sync"), ActivityKind.WEBHOOK, url=receiver.url)
        factories.registered(factories.origin(funnel), email="bob@example.com")  # a step due now
        assert seconds_to_arrive(receiver, 3, time.monotonic()) < 1.0


def test_work_due_now_notifies_once_at_commit_and_nothing_else_does(app, postgres):
    args, kwargs = db.engine.dialect.create_connect_args(db.engine.url)
    with psycopg.connect(*args, **kwargs, autocommit=True) as listening:
        listening.execute(f"LISTEN {CHANNEL}")

        def notifications() -> int:
            return sum(1 for _ in listening.notifies(timeout=0.3))

        queue_events(3, "http://127.0.0.1:9/hook")  # three messages, one transaction
        assert notifications() == 1

        sent = db.session.scalars(db.select(OutboxMessage)).first()
        sent.status, sent.delivered_at = MessageStatus.DELIVERED, utcnow()
        db.session.commit()
        assert notifications() == 0
        redeliver(sent)  # staff send it again: a changed row, due now
        db.session.commit()
        assert notifications() == 1

        ws = factories.workspace("Later")
        factories.funnel(ws)  # a transaction without outbox work
        later = OutboxMessage(
            workspace_id=ws.id,
            channel=Channel.WEBHOOK,
            target="http://127.0.0.1:9/hook",
            next_attempt_at=utcnow() + timedelta(minutes=5),  # a retry: found by polling
        )
        db.session.add(later)
        db.session.commit()
        assert notifications() == 0

        db.session.add(OutboxMessage(workspace_id=ws.id, channel=Channel.WEBHOOK, target="x"))
        db.session.flush()
        db.session.rollback()
        db.session.expire_all()
        assert notifications() == 0

        app.config["WORKER_LISTEN"] = False  # workers poll: writers need not notify
        try:
            queue_events(1, "http://127.0.0.1:9/hook")
            assert notifications() == 0
        finally:
            app.config["WORKER_LISTEN"] = True


def test_a_lost_listen_connection_falls_back_to_polling_and_recovers(app, postgres):
    with webhook_receiver() as receiver, running_worker(app, idle_seconds=2):
        [first] = wait_listening()
        db.session.execute(db.text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        db.session.commit()
        queue_events(1, receiver.url)
        assert seconds_to_arrive(receiver, 1, time.monotonic()) < 4.5  # by polling

        assert eventually(lambda: listener_pids() not in ([], [first]), timeout=8)
        time.sleep(0.3)
        for count in (2, 3, 4):  # by chance of a 2 s poll, each under 0.5 s: 1 in 64
            queue_events(1, receiver.url)
            assert seconds_to_arrive(receiver, count, time.monotonic()) < 0.5


def test_listening_workers_all_wake_and_never_share_a_message(app, postgres):
    with webhook_receiver(delay=0.01) as receiver:
        with running_worker(app, idle_seconds=30), running_worker(app, idle_seconds=30):
            wait_listening(2)
            committed_at = time.monotonic()
            for _ in range(4):
                queue_events(10, receiver.url)
            assert seconds_to_arrive(receiver, 40, committed_at) < 5.0
            time.sleep(0.3)  # a second delivery of any would arrive by now
        ids = [request.headers["webhook-id"] for request in receiver.requests]

    assert len(ids) == 40
    assert len(set(ids)) == 40


@pytest.mark.parametrize("listen", [True, False], ids=["listen-on", "listen-off"])
def test_on_sqlite_or_with_listening_off_the_worker_polls(app, listen):
    if db.engine.dialect.name == "postgresql" and listen:
        pytest.skip("PostgreSQL workers listen unless told not to (tested above)")
    endpoint = queue_events(0, "")
    workspace_id, lead_id = endpoint.workspace_id, db.session.scalar(db.select(Lead.id))
    db.session.commit()  # no snapshot kept: on SQLite, a write after the worker's would fail
    app.config["WORKER_LISTEN"] = listen
    try:
        with webhook_receiver() as receiver, running_worker(app, idle_seconds=0.3):
            endpoint.url = receiver.url
            db.session.commit()
            time.sleep(0.5)
            if db.engine.dialect.name == "postgresql":
                assert listener_pids() == []
            else:
                assert Listener.for_engine(db.engine) is None
            begin_write_transaction()  # as a request that writes does
            EventWriter(workspace_id, lead_id).emit("lead.created", {"n": 1})
            db.session.commit()
            assert seconds_to_arrive(receiver, 1, time.monotonic()) < 1.5
    finally:
        app.config["WORKER_LISTEN"] = True
