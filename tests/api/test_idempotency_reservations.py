"""An Idempotency-Key is reserved by its first request: a repeat meanwhile waits, then answers
409; a request that fails frees its key; a reservation whose request died is taken over."""

from __future__ import annotations

import json
from datetime import timedelta

from flask import Flask, request

from leadsite.api import idempotency
from leadsite.api.idempotency import HEADER, IN_PROGRESS, request_fingerprint
from leadsite.extensions import db
from leadsite.models import ApiKey, IdempotencyRecord, Lead, utcnow

BODY = {"email": "held@example.com"}
RAW = json.dumps(BODY)


def _reserve_as_another_request(
    app: Flask, api, key: str, age: timedelta, holder: dict | None = None
) -> None:
    """The record a request with this key and body leaves while it registers (naming its
    `holder` as `idempotency._holder` does, if given)."""
    path = f"/api/v1/leads?ref={api.origin.ref}"
    with app.test_request_context(path, method="POST", data=RAW):
        fingerprint = request_fingerprint(request)
    key_row = db.session.scalar(db.select(ApiKey).filter_by(workspace_id=api.workspace.id))
    db.session.add(
        IdempotencyRecord(
            api_key_id=key_row.id,
            key=key,
            request_hash=fingerprint,
            status_code=IN_PROGRESS,
            response_body=holder or {},
            created_at=utcnow() - age,
        )
    )
    db.session.commit()


def _send(api, key: str):
    return api.register(data=RAW, content_type="application/json", headers={HEADER: key})


def _leads() -> int:
    db.session.rollback()
    db.session.expire_all()
    return db.session.scalar(db.select(db.func.count()).select_from(Lead))


def test_a_repeat_while_the_first_is_at_work_answers_409_in_progress(app, api, monkeypatch):
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0.2)
    _reserve_as_another_request(app, api, "busy-1", timedelta(seconds=1))

    response = api.register(
        data=RAW, content_type="application/json", headers={"Idempotency-Key": "busy-1"}
    )

    assert response.status_code == 409
    assert response.json["code"] == "IDEMPOTENCY_IN_PROGRESS"
    assert _leads() == 0


def test_a_reservation_whose_request_died_is_taken_over(app, api):
    _reserve_as_another_request(app, api, "dead-1", idempotency.ABANDONED_AFTER * 2)

    first = api.register(
        data=RAW, content_type="application/json", headers={"Idempotency-Key": "dead-1"}
    )
    again = api.register(
        data=RAW, content_type="application/json", headers={"Idempotency-Key": "dead-1"}
    )

    assert first.status_code == 201
    assert (again.status_code, again.json) == (201, first.json)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _leads() == 1


def test_a_request_that_fails_frees_its_key_for_the_retry(api, monkeypatch):
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the database went away")

    headers = {"Idempotency-Key": "retry-1"}
    monkeypatch.setattr("leadsite.api.dialects.doors.register", broken)
    failed = api.register(BODY, headers=headers)
    monkeypatch.undo()

    assert failed.status_code == 500
    assert db.session.scalar(db.select(db.func.count()).select_from(IdempotencyRecord)) == 0
    retry = api.register(BODY, headers=headers)
    assert retry.status_code == 201
    assert _leads() == 1
