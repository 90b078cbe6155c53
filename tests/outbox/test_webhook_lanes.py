"""One customer's dead webhook receiver does not hold back anyone else's emails and webhooks:
the worker sends endpoint by endpoint, gives up on an endpoint's batch at its first unanswered
attempt, and goes on while that send hangs."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from flask import Flask

from leadsite.database import begin_write_transaction
from leadsite.extensions import db
from leadsite.models import MessageStatus, OutboxMessage
from leadsite.outbox import delivery, worker
from leadsite.outbox.email import queue_email
from leadsite.outbox.events import EventWriter
from tests import factories
from tests.outbox import queue_events
from tests.servers import eventually, smtp_server, webhook_receiver


@dataclass
class DeadReceiver:
    """Accepts connections and never answers, until the test hangs up on them."""

    url: str
    connections: list[socket.socket] = field(default_factory=list)

    def hang_up(self) -> None:
        for connection in list(self.connections):
            connection.close()


@contextmanager
def dead_receiver() -> Iterator[DeadReceiver]:
    server = socket.create_server(("127.0.0.1", 0))
    dead = DeadReceiver(f"http://127.0.0.1:{server.getsockname()[1]}/hook")

    def accept() -> None:
        try:
            while True:
                dead.connections.append(server.accept()[0])
        except OSError:
            pass

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield dead
    finally:
        server.close()
        dead.hang_up()


@contextmanager
def running_worker(app: Flask) -> Iterator[threading.Event]:
    """`worker.run` in a thread, as `leadsite worker` runs it; yields its stop event."""
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(app, stop, 0.05), daemon=True)
    thread.start()
    try:
        yield stop
    finally:
        stop.set()
        thread.join(timeout=30)
        assert not thread.is_alive()


def _messages(endpoint_id: str | None = None, channel: str | None = None) -> list[OutboxMessage]:
    db.session.rollback()
    db.session.expire_all()
    query = db.select(OutboxMessage).order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
    if endpoint_id is not None:
        query = query.filter_by(endpoint_id=endpoint_id)
    if channel is not None:
        query = query.filter_by(channel=channel)
    messages = list(db.session.scalars(query))
    db.session.expunge_all()
    db.session.rollback()  # no read left open: the test writes while the worker does (SQLite)
    return messages


def _statuses(endpoint_id: str) -> set[str]:
    return {message.status for message in _messages(endpoint_id)}


def _one_more_event(endpoint_id: str) -> None:
    """Another lead.created of the endpoint's workspace (its lead is the workspace's first)."""
    endpoint_message = _messages(endpoint_id)[0]
    begin_write_transaction()
    EventWriter(endpoint_message.workspace_id, endpoint_message.lead_id).emit(
        "lead.created", {"n": "later"}
    )
    db.session.commit()


@pytest.fixture
def mail(app: Flask) -> Iterator[object]:
    with smtp_server() as (mailbox, port):
        app.config["MAIL_URL"] = f"smtp://127.0.0.1:{port}"
        try:
            yield mailbox
        finally:
            app.config["MAIL_URL"] = None


def test_a_hung_receiver_holds_back_no_one_elses_emails_and_webhooks(app, mail, monkeypatch):
    monkeypatch.setitem(app.config, "WORKER_LISTEN", False)
    monkeypatch.setattr(delivery, "TIMEOUT_SECONDS", 60)  # hangs until the test hangs up
    with dead_receiver() as dead, webhook_receiver() as healthy:
        dead_id = queue_events(3, dead.url).id
        healthy_id, healthy_workspace_id = (lambda e: (e.id, e.workspace_id))(
            queue_events(3, healthy.url)
        )
        queue_email(factories.workspace().id, "first@example.com", "Welcome", "Hello")
        db.session.commit()

        with running_worker(app):
            assert eventually(lambda: len(dead.connections) == 1)
            # The dead receiver's send hangs; everything else goes out and is recorded.
            assert len(healthy.wait_for(3)) == 3
            assert len(mail.wait_for(1)) == 1
            assert eventually(lambda: _statuses(healthy_id) == {MessageStatus.DELIVERED})
            # Work that comes while it hangs is claimed and sent too, but not the dead
            # endpoint's: its messages wait for the send under way.
            begin_write_transaction()
            queue_email(healthy_workspace_id, "second@example.com", "Welcome", "Hi")
            db.session.commit()
            _one_more_event(healthy_id)
            _one_more_event(dead_id)
            assert len(mail.wait_for(2)) == 2
            assert len(healthy.wait_for(4)) == 4
            assert eventually(lambda: _statuses(healthy_id) == {MessageStatus.DELIVERED})
            emails = _messages(channel="email")
            assert {m.status for m in emails} == {MessageStatus.DELIVERED}
            assert len(dead.connections) == 1
            assert [m.attempts for m in _messages(dead_id)] == [0, 0, 0, 0]

            dead.hang_up()  # the send fails: no answer
            # Its messages wait for the retry of the one attempted, the later one too.
            assert eventually(lambda: len({m.next_attempt_at for m in _messages(dead_id)}) == 1)

        messages = _messages(dead_id)
    assert len(dead.connections) == 1  # one attempt for the endpoint's four messages
    assert sorted(m.attempts for m in messages) == [0, 0, 0, 1]
    assert {(m.status, m.locked_until) for m in messages} == {(MessageStatus.PENDING, None)}
    assert [bool(m.last_error) for m in messages if m.attempts] == [True]


def test_a_dead_endpoint_costs_one_timeout_and_its_other_messages_wait_with_it(app, monkeypatch):
    monkeypatch.setattr(delivery, "TIMEOUT_SECONDS", 1)
    with dead_receiver() as dead:
        endpoint = queue_events(4, dead.url)
        assert worker.run_once() == 1  # the one attempt

        messages = _messages(endpoint.id)
    assert len(dead.connections) == 1
    failed = [m for m in messages if m.attempts == 1]
    waiting = [m for m in messages if m.attempts == 0]
    assert len(failed) == 1 and len(waiting) == 3
    assert failed[0].last_error and failed[0].status == MessageStatus.PENDING
    for message in waiting:  # put back, not attempted: due when the failed one is retried
        assert (message.status, message.locked_until, message.last_error) == (
            MessageStatus.PENDING,
            None,
            None,
        )
        assert message.next_attempt_at == failed[0].next_attempt_at


def test_stopping_while_a_send_hangs_finishes_and_records_it(app, monkeypatch):
    monkeypatch.setitem(app.config, "WORKER_LISTEN", False)
    monkeypatch.setattr(delivery, "TIMEOUT_SECONDS", 1)
    with dead_receiver() as dead, webhook_receiver() as healthy:
        dead_id = queue_events(2, dead.url).id
        healthy_id = queue_events(2, healthy.url).id
        with running_worker(app) as stop:
            assert eventually(lambda: len(dead.connections) == 1)
            assert len(healthy.wait_for(2)) == 2
            stop.set()  # while the dead receiver's send is still under way (1 s)
        # `running_worker` has joined the worker: it waited for the send, and recorded it.

    assert _statuses(healthy_id) == {MessageStatus.DELIVERED}
    messages = _messages(dead_id)
    assert sorted(m.attempts for m in messages) == [0, 1]
    assert {(m.status, m.locked_until) for m in messages} == {(MessageStatus.PENDING, None)}
    assert len(dead.connections) == 1
