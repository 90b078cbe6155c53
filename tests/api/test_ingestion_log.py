"""The ingestion log: every call an origin answers is kept, redacted, and read back by the API."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import event

from leadsite.extensions import db
from leadsite.ingestion import prune, writer
from leadsite.models import IngestionEntry, OriginKind, utcnow
from leadsite.outbox import worker
from tests import factories
from tests.public.helpers import post_form
from tests.servers import eventually
from tests.statements import captured_statements


def _entries() -> list[IngestionEntry]:
    db.session.rollback()  # read what the requests committed, not a snapshot from before them
    return list(db.session.scalars(db.select(IngestionEntry).order_by(IngestionEntry.id)))


def _stored(entry: IngestionEntry) -> str:
    """Every column of an entry that holds text from the request, as one string."""
    return json.dumps([entry.body, entry.query, entry.message, entry.details, entry.codes])


def test_a_registration_is_logged_created_then_updated(api):
    first = api.register({"email": "ada@example.com", "first_name": "Ada"})
    second = api.register({"email": "ada@example.com", "last_name": "Lovelace"})

    created, updated = _entries()
    assert (created.outcome, created.status, created.lead_id) == (
        "created",
        201,
        first.json["data"]["id"],
    )
    assert (updated.outcome, updated.status, updated.lead_id) == (
        "updated",
        200,
        second.json["data"]["id"],
    )
    assert created.dialect == "leadsite" and created.origin_id == api.origin.id
    assert json.loads(created.body) == {"email": "ada@example.com", "first_name": "Ada"}
    assert created.codes == [] and created.message is None
    assert created.query == f"ref={api.origin.ref}"


def test_ingest_log_off_logs_nothing_and_registers_as_before(api, app):
    app.config["INGEST_LOG"] = False
    try:
        response = api.register({"email": "off@example.com"})
    finally:
        app.config["INGEST_LOG"] = True
    assert response.status_code == 201
    assert _entries() == []
    api.register({"email": "on@example.com"})
    assert [entry.status for entry in _entries()] == [201]


def test_a_refused_registration_is_logged_with_its_codes_and_message(api):
    response = api.register({"email": "not-an-email", "phone": "12"})

    assert response.status_code == 422
    (entry,) = _entries()
    assert (entry.outcome, entry.status, entry.lead_id) == ("rejected", 422, None)
    assert entry.codes == ["VALIDATION_ERROR"]
    assert entry.message == "Validation failed"
    assert {e["field"] for e in entry.details["errors"]} == {"email", "phone"}
    assert json.loads(entry.body)["email"] == "not-an-email"


def test_a_duplicate_refused_by_the_funnel_is_logged_409(api):
    api.funnel.on_duplicate = "reject"
    db.session.commit()
    api.register({"email": "ada@example.com"})

    api.register({"email": "ada@example.com"})

    entry = _entries()[-1]
    assert (entry.outcome, entry.status, entry.codes) == ("rejected", 409, ["DUPLICATE_EMAIL"])


def test_invalid_json_is_logged_with_its_text_redacted(api):
    raw = '{"email": "ada@example.com", "api_key": "abc123secret", '
    response = api.register(data=raw, content_type="application/json")

    assert response.status_code == 400
    (entry,) = _entries()
    assert entry.codes == ["INVALID_JSON"]
    assert "ada@example.com" in entry.body
    assert "abc123secret" not in entry.body


def test_the_log_never_holds_a_secret(api):
    body = {
        "email": "ada@example.com",
        "api_key": "plain-api-key-value",
        "Password": "hunter2hunter2",
        "access_token": "tok-123456789",
        "note": f"my key is {api.key}",
        "WebhookInput": {"Url": "https://hooks.example.com/x", "Secret": "whsec_abcdefgh"},
        "JourneyData": [{"Name": "company", "Value": "Acme"}],
    }
    response = api.client.post(
        f"/api/v1/leads?ref={api.origin.ref}&api_key=query-key-value",
        json=body,
        headers={**api.auth, "X-Api-Key": "header-key-value"},
    )

    assert response.status_code == 201
    (entry,) = _entries()
    stored = _stored(entry)
    for secret in (
        api.key,
        "plain-api-key-value",
        "hunter2hunter2",
        "tok-123456789",
        "whsec_abcdefgh",
        "query-key-value",
        "header-key-value",
        "Bearer",
    ):
        assert secret not in stored
    kept = json.loads(entry.body)
    assert kept["api_key"] == kept["Password"] == "[redacted]"
    assert kept["note"] == "my key is [redacted]"
    assert kept["WebhookInput"]["Url"] == "https://hooks.example.com/x"
    assert kept["JourneyData"] == [{"Name": "company", "Value": "Acme"}]


def test_a_refusal_holding_a_secret_keeps_it_out_of_the_log(api):
    # The field error names the value sent; the log keeps fields and messages, never values.
    response = api.register({"email": "ada@example.com", "WebhookInput": {"Secret": 12345678}})

    assert response.status_code == 422
    (entry,) = _entries()
    assert "12345678" not in _stored(entry)


def test_a_call_no_origin_answers_is_logged_nowhere(api):
    api.register({"email": "ada@example.com"}, ref="no-such-ref")
    api.client.post("/api/v1/leads?ref=x", json={"email": "a@example.com"})  # no key

    assert _entries() == []


def test_the_public_form_logs_its_calls(client):
    ws = factories.workspace()
    origin = factories.origin(factories.staged_funnel(ws), OriginKind.PAGE)
    path = f"/r/{origin.ref}"

    good = post_form(client, path, origin.ref, email="ada@example.com", first_name="Ada")
    bad = post_form(client, path, origin.ref, email="nope", first_name="Bob")

    assert good.status_code == 200 and bad.status_code == 422
    created, rejected = _entries()
    assert (created.dialect, created.outcome, created.status) == ("form", "created", 200)
    assert created.lead_id is not None
    assert (rejected.outcome, rejected.status) == ("rejected", 422)
    assert rejected.codes == ["VALIDATION_ERROR"]
    assert [e["field"] for e in rejected.details["errors"]] == ["email"]
    kept = json.loads(created.body)
    assert kept["email"] == "ada@example.com" and kept["_token"] == "[redacted]"


def _log(api, origin_id: str, **params: str):
    return api.get(f"/api/v1/origins/{origin_id}/log", query_string=params)


def test_the_api_reads_the_log_newest_first_page_by_page(api):
    for n in range(3):
        api.register({"email": f"lead{n}@example.com"})
    api.register({"email": "broken"})

    first = _log(api, api.origin.id, limit="2")
    second = _log(api, api.origin.id, limit="2", cursor=first.json["next_cursor"])

    assert first.status_code == 200
    assert [e["status"] for e in first.json["data"]] == [422, 201]
    assert first.json["has_more"] is True
    assert [json.loads(e["body"])["email"] for e in second.json["data"]] == [
        "lead1@example.com",
        "lead0@example.com",
    ]
    assert second.json["has_more"] is False and second.json["next_cursor"] is None
    refused = first.json["data"][0]
    assert refused["outcome"] == "rejected" and refused["codes"] == ["VALIDATION_ERROR"]
    assert refused["message"] == "Validation failed"
    assert refused["errors"][0]["field"] == "email"


def test_the_api_log_filters_by_outcome(api):
    api.register({"email": "ada@example.com"})
    api.register({"email": "broken"})

    response = _log(api, api.origin.id, outcome="rejected")

    assert [e["status"] for e in response.json["data"]] == [422]


def test_the_api_log_refuses_bad_parameters_and_other_workspaces(api):
    other = factories.origin(factories.funnel(factories.workspace("Other")))

    assert _log(api, api.origin.id, cursor="nope").status_code == 422
    assert _log(api, api.origin.id, limit="0").status_code == 422
    assert _log(api, api.origin.id, outcome="maybe").status_code == 422
    assert _log(api, other.id).status_code == 404


def test_entries_older_than_30_days_are_pruned(api):
    api.register({"email": "old@example.com"})
    api.register({"email": "new@example.com"})
    old, new = _entries()
    old.at = utcnow() - timedelta(days=31)
    new.at = utcnow() - timedelta(days=29)
    db.session.commit()

    assert prune() == 1

    assert [e.id for e in _entries()] == [new.id]


def test_the_worker_prunes_the_log_as_it_runs(app, api):
    api.register({"email": "old@example.com"})
    api.register({"email": "new@example.com"})
    old, new = _entries()
    old.at = utcnow() - timedelta(days=30, minutes=1)
    db.session.commit()
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(app, stop, 0.01))

    thread.start()
    try:
        for _ in range(500):  # the first pass prunes; allow a slow machine 5 s
            if len(_entries()) == 1:
                break
            time.sleep(0.01)
    finally:
        stop.set()
        thread.join(10)

    assert [e.id for e in _entries()] == [new.id]


def test_a_registration_writes_no_entry_in_its_own_transaction(api):
    order: list[str] = []

    def statement(conn, cursor, sql: str, *rest) -> None:
        order.append(sql.split("(")[0].strip())

    def commit(conn) -> None:
        order.append("COMMIT")

    event.listen(db.engine, "before_cursor_execute", statement)
    event.listen(db.engine, "commit", commit)
    try:
        response = api.register({"email": "ada@example.com"})
    finally:
        event.remove(db.engine, "before_cursor_execute", statement)
        event.remove(db.engine, "commit", commit)

    assert response.status_code == 201
    registered = order.index("COMMIT", order.index("INSERT INTO leads"))
    # The entry is made after the answer, by the log writer, in a transaction of its own.
    assert order.index("INSERT INTO ingestion_entries") > registered
    assert order.count("INSERT INTO ingestion_entries") == 1


@pytest.fixture
def background(app):
    """The log written as in production: by a thread, every 0.2 s."""
    log_writer = app.extensions[writer.EXTENSION]
    log_writer.interval = 0.2
    yield log_writer
    # As the suite has it: each entry at its answer. The thread must have ended before the
    # next test: one still in its wait goes on flushing at that test's interval.
    log_writer.stop()
    if log_writer._thread is not None:
        log_writer._thread.join(timeout=5)
        assert not log_writer._thread.is_alive()


def test_the_background_writer_writes_the_entries_in_a_batch(api, background):
    for number in range(5):
        assert api.register({"email": f"ada{number}@example.com"}).status_code == 201
    statuses = [entry.status for entry in _entries()]  # the thread may have written some
    assert len(statuses) <= 5

    assert eventually(lambda: len(_entries()) == 5, timeout=5)
    assert {entry.outcome for entry in _entries()} == {"created"}


def test_reading_the_log_flushes_what_this_process_has_not_written(api, background):
    background.interval = 3600  # the thread would not write it for an hour
    background.flush()
    api.register({"email": "ada@example.com"})
    api.register({"email": "not-an-email"})

    response = api.client.get(f"/api/v1/origins/{api.origin.id}/log", headers=api.auth)

    assert response.status_code == 200
    assert [entry["outcome"] for entry in response.json["data"]] == ["rejected", "created"]


def test_erasure_redacts_entries_not_written_yet(api, background):
    background.interval = 3600
    background.flush()
    lead_id = api.register({"email": "ada@example.com", "first_name": "Ada"}).json["data"]["id"]

    response = api.client.delete(f"/api/v1/leads/{lead_id}", headers=api.auth)

    assert response.status_code == 200
    background.flush()
    (entry,) = _entries()
    assert (entry.lead_id, entry.body, entry.query) == (lead_id, None, None)


def test_erasing_a_lead_erases_what_its_calls_sent(api):
    lead_id = api.register({"email": "ada@example.com", "first_name": "Ada"}).json["data"]["id"]
    api.register({"email": "grace@example.com"})

    response = api.client.delete(f"/api/v1/leads/{lead_id}", headers=api.auth)

    assert response.status_code == 200
    erased, kept = _entries()
    assert (erased.lead_id, erased.outcome, erased.body, erased.query) == (
        lead_id,
        "created",
        None,
        None,
    )
    assert "grace@example.com" in kept.body


def test_a_batch_keeps_each_entry_whole_and_no_secret(api, background):
    """Entries written together (one statement on PostgreSQL) keep their own columns, text
    beyond ASCII, and none of the secrets their calls carried."""
    background.interval = 3600
    background.flush()
    secret_body = {
        "email": "zoe@example.com",
        "first_name": 'Zoë 東京 "quoted" \\ back',
        "api_key": "plain-api-key-value",
        "note": f"my key is {api.key}",
        "hook": {"Secret": "whsec_abcdefgh"},
    }
    api.client.post(
        f"/api/v1/leads?ref={api.origin.ref}&token=query-token-value",
        json=secret_body,
        headers={**api.auth, "X-Api-Key": "header-key-value"},
    )
    api.register({"email": "not-an-email"})
    api.register({"email": "ada@example.com"})
    assert _entries() == []  # queued, not written

    assert background.flush() == 3

    secret, refused, created = _entries()
    for value in (api.key, "plain-api-key-value", "whsec_abcdefgh", "query-token-value"):
        assert value not in _stored(secret)
    assert "header-key-value" not in _stored(secret)
    kept = json.loads(secret.body)
    assert kept["first_name"] == 'Zoë 東京 "quoted" \\ back'
    assert kept["api_key"] == kept["hook"]["Secret"] == "[redacted]"
    assert secret.query == f"ref={api.origin.ref}&token=%5Bredacted%5D"
    assert (refused.outcome, refused.status, refused.codes) == (
        "rejected",
        422,
        ["VALIDATION_ERROR"],
    )
    assert [error["field"] for error in refused.details["errors"]] == ["email"]
    assert (created.outcome, created.status, created.details, created.message) == (
        "created",
        201,
        None,
        None,
    )
    assert secret.at <= refused.at <= created.at <= utcnow()
    assert secret.at.utcoffset() == timedelta(0)


def _erase_while_a_batch_waits(api, background, commit: bool) -> tuple[str, int]:
    """A batch taken by the writer's thread, waiting for SQLite's write lock (on PostgreSQL it
    may be written at once), while an erasure of the lead its entries name holds that lock."""
    from leadsite.database import begin_write_transaction
    from leadsite.erasure import erase_lead
    from leadsite.models import Lead

    background.interval = 3600
    background.flush()
    lead_id = api.register({"email": "ada@example.com"}).json["data"]["id"]
    api.register({"email": "ada@example.com", "first_name": "x" * 5000})  # refused: too long
    assert len(background._pending) == 2
    db.session.rollback()
    begin_write_transaction()  # this thread holds SQLite's write lock from here
    lead = db.session.get(Lead, lead_id)
    written: list[int] = []
    flushing = threading.Thread(target=lambda: written.append(background.flush()))
    flushing.start()
    assert eventually(lambda: not background._pending)  # taken by the thread

    erase_lead(lead)  # the erasure, while the batch is in flight
    if commit:
        db.session.commit()
    else:
        db.session.rollback()
    flushing.join(timeout=60)

    assert not flushing.is_alive()
    return lead_id, sum(written)


def test_an_erasure_redacts_a_batch_written_after_it(api, background):
    lead_id, written = _erase_while_a_batch_waits(api, background, commit=True)

    assert written == 2
    created, refused = sorted(_entries(), key=lambda entry: entry.outcome)
    assert (created.lead_id, created.body, created.query) == (lead_id, None, None)
    assert (refused.outcome, refused.lead_id, refused.body, refused.query) == (
        "rejected",
        None,
        None,
        None,
    )


def test_an_erasure_rolled_back_leaves_the_batch_whole(api, background):
    lead_id, written = _erase_while_a_batch_waits(api, background, commit=False)

    assert written == 2
    created, refused = sorted(_entries(), key=lambda entry: entry.outcome)
    assert created.lead_id == lead_id
    assert "ada@example.com" in created.body
    assert "ada@example.com" in refused.body


def test_a_batch_is_one_statement_on_a_connection_kept_between_batches(api, background):
    """No pool checkout, BEGIN, SET LOCAL or COMMIT a batch on PostgreSQL: each cost a round
    trip, and the batches of a moderately busy process are small. A connection lost between
    two batches (a restart of PostgreSQL) is replaced, the batch written."""
    background.interval = 3600
    background.flush()
    statements: list[str] = []

    def flush() -> int:
        with captured_statements() as sent:
            written = background.flush()
        statements.extend(sql.split("(")[0].strip() for sql, _ in sent)
        return written

    api.register({"email": "ada@example.com"})
    assert flush() == 1
    statements.clear()
    api.register({"email": "grace@example.com"})
    api.register({"email": "not-an-email"})

    assert flush() == 2
    postgresql = db.engine.dialect.name == "postgresql"
    begin = [] if postgresql else ["BEGIN IMMEDIATE"]  # SQLite's writers queue for the lock
    assert statements == [*begin, "INSERT INTO ingestion_entries"]
    if postgresql:
        own = background._connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        db.session.execute(db.text("SELECT pg_terminate_backend(:pid)"), {"pid": own})
        db.session.commit()
    api.register({"email": "alan@example.com"})
    assert flush() == 1
    assert len(_entries()) == 4
