"""A request that registered but died before storing its answer (kill -9, the database gone
between the two commits): a retry with its `Idempotency-Key` answers as it would have, from the
registration written with the lead, and never registers again."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine

from leadsite.api import idempotency
from leadsite.extensions import db
from leadsite.models import IdempotencyRecord, Lead
from tests import factories
from tests.api.conftest import ApiWorld
from tests.api.test_idempotency_reservations import (
    BODY,
    RAW,
    _reserve_as_another_request,
    _send,
)

HEADER = "Idempotency-Key"


@pytest.fixture
def dies_before_answering(app, monkeypatch):
    """`remember` fails once, as a process killed after the registration's commit would; a
    reservation that old (0 s) is taken over by a retry unless its registration is known."""
    real = idempotency.remember
    calls = {"failed": 0}

    def remember_once(reservation: str, response: Any) -> None:
        if not calls["failed"]:
            calls["failed"] += 1
            raise RuntimeError("killed between the registration and its answer")
        real(reservation, response)

    monkeypatch.setattr(idempotency, "remember", remember_once)
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0.3)
    monkeypatch.setitem(app.config, "IDEMPOTENCY_ABANDONED_AFTER", 0)
    monkeypatch.setattr(idempotency, "ABANDONED_AFTER", timedelta(0))  # the unfixed code's
    return calls


def _post(url: str, body: Any, headers: dict[str, str]) -> tuple[int, dict[str, Any], Any]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **headers},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, dict(answer.headers), json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), None


def _leads() -> list[Lead]:
    db.session.rollback()
    db.session.expire_all()
    return list(db.session.scalars(db.select(Lead).order_by(Lead.email)))


def test_a_retry_after_a_lost_answer_answers_201_with_the_lead_registered_once(
    api: ApiWorld, live_server: str, dies_before_answering
):
    url = f"{live_server}/api/v1/leads?ref={api.origin.ref}"
    headers = {**api.auth, HEADER: "lost-1"}
    body = {"email": "ada@example.com", "first_name": "Ada"}

    first, _, _ = _post(url, body, headers)
    status, answer_headers, answer = _post(url, body, headers)
    again, _, replayed = _post(url, body, headers)

    assert first == 500 and dies_before_answering["failed"] == 1
    (lead,) = _leads()
    assert (lead.email, lead.counter) == ("ada@example.com", 1)
    assert status == 201
    assert answer_headers["Idempotent-Replayed"] == "true"
    assert answer["created"] is True and answer["data"]["id"] == lead.id
    assert answer["data"]["journey"]["funnel_id"] == api.funnel.id
    assert (again, replayed) == (201, answer)  # the rebuilt answer is now the stored one


def test_a_retry_after_a_lost_answer_of_an_update_answers_200_and_counts_once(
    api: ApiWorld, dies_before_answering
):
    known = api.register({"email": "grace@example.com"})
    headers = {HEADER: "lost-2"}

    assert (
        api.register(
            {"email": "grace@example.com", "first_name": "Grace"}, headers=headers
        ).status_code
        == 500
    )
    retry = api.register({"email": "grace@example.com", "first_name": "Grace"}, headers=headers)

    (lead,) = _leads()
    assert (lead.first_name, lead.counter) == ("Grace", 2)
    assert retry.status_code == 200
    assert retry.json["created"] is False
    assert retry.json["data"]["id"] == known.json["data"]["id"] == lead.id


def test_a_batch_retry_after_a_lost_answer_gets_the_first_answer_per_item(
    api: ApiWorld, dies_before_answering
):
    items = [{"email": "ada@example.com"}, {"email": "not-an-email"}, {"email": "bo@example.com"}]
    path = f"/api/v1/leads/batch?ref={api.origin.ref}"
    headers = {**api.auth, HEADER: "lost-batch"}

    assert api.client.post(path, json=items, headers=headers).status_code == 500
    retry = api.client.post(path, json=items, headers=headers)

    leads = _leads()
    assert [(lead.email, lead.counter) for lead in leads] == [
        ("ada@example.com", 1),
        ("bo@example.com", 1),
    ]
    assert retry.status_code == 200
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json["counts"] == {"created": 2, "updated": 0, "rejected": 1}
    data = retry.json["data"]
    assert [(item["status"], item["lead_id"]) for item in data] == [
        ("created", leads[0].id),
        ("rejected", None),
        ("created", leads[1].id),
    ]
    assert data[1]["code"] == "VALIDATION_ERROR"


def test_the_chatbot_answer_is_rebuilt_in_its_own_shape(api: ApiWorld, dies_before_answering):
    api.workspace.default_origin_id = api.origin.id
    db.session.commit()
    headers = {**api.auth, HEADER: "lost-chatbot"}
    body = {"email": "cy@example.com", "first_name": "Cy"}

    assert api.client.post("/api/v1/leads", json=body, headers=headers).status_code == 500
    retry = api.client.post("/api/v1/leads", json=body, headers=headers)

    (lead,) = _leads()
    assert lead.counter == 1
    assert retry.status_code == 201
    assert retry.json["success"] is True and retry.json["data"]["id"] == lead.id
    assert "journey" not in retry.json["data"]


def test_a_failed_request_that_registered_keeps_its_key(api: ApiWorld, monkeypatch):
    """An error after the registration's commit (its answer failed to build) no longer frees
    the key: the retry answers from the registration instead of registering again."""

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the answer could not be made")

    monkeypatch.setattr("leadsite.api.leads.lead_dict", broken)
    headers = {HEADER: "lost-3"}
    assert api.register({"email": "di@example.com"}, headers=headers).status_code == 500
    monkeypatch.undo()
    retry = api.register({"email": "di@example.com"}, headers=headers)

    (lead,) = _leads()
    assert lead.counter == 1
    assert (retry.status_code, retry.json["data"]["id"]) == (201, lead.id)
    record = db.session.scalar(db.select(IdempotencyRecord).filter_by(key="lost-3"))
    assert record.registered == [[0, lead.id, True]]


@pytest.mark.parametrize(("abandoned_after", "status"), [(1, 201), (60, 409)])
def test_a_reservation_with_nothing_registered_is_taken_over_after_the_setting(
    app, api: ApiWorld, monkeypatch, abandoned_after: int, status: int
):
    monkeypatch.setitem(app.config, "IDEMPOTENCY_ABANDONED_AFTER", abandoned_after)
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0.2)
    _reserve_as_another_request(app, api, "empty-1", timedelta(seconds=2))

    retry = api.register(data=RAW, content_type="application/json", headers={HEADER: "empty-1"})

    assert retry.status_code == status
    assert len(_leads()) == (1 if status == 201 else 0)


def test_a_repeat_while_the_first_stores_its_answer_gets_that_answer_not_a_rebuilt_one(
    app, api: ApiWorld, monkeypatch
):
    """Registered, its answer on its way (the first request between its registration's commit
    and `remember`): a repeat waits for that answer. It used to rebuild one from the lead as it
    was by then, which the worker may have changed (a tag): another answer than the first."""
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 10.0)  # the answer comes after 0.5 s
    lead = factories.lead(api.workspace, email=BODY["email"], tags=["welcomed"])
    _reserve_as_another_request(app, api, "on-its-way", timedelta(0))
    reservation = db.session.scalar(db.select(IdempotencyRecord).filter_by(key="on-its-way"))
    reservation.registered = [[0, lead.id, True]]
    db.session.commit()
    first = {"success": True, "created": True, "data": {"id": lead.id, "tags": []}}
    stored = threading.Timer(0.5, _store_answer, (db.engine, reservation.id, first))

    stored.start()
    try:
        repeat = _send(api, "on-its-way")
    finally:
        stored.join()

    assert repeat.status_code == 201
    assert repeat.headers["Idempotent-Replayed"] == "true"
    assert repeat.json == first


def _store_answer(engine: Engine, reservation_id: str, body: dict[str, Any]) -> None:
    """What `remember` commits, from another connection (the first request's)."""
    with engine.begin() as connection:
        connection.execute(
            update(IdempotencyRecord.__table__)
            .where(IdempotencyRecord.id == reservation_id)
            .values(status_code=201, response_body=body)
        )
