"""Every door that registers: a retry of a call that registered but lost its answer (the
process died before storing it) answers in the door's own shape, from the registration, and
registers no one again."""

from __future__ import annotations

import pytest

from leadsite.extensions import db
from leadsite.models import Lead
from tests.api.conftest import ApiWorld
from tests.api.dialects.test_idempotency import _doors
from tests.api.test_idempotency_lost_answers import dies_before_answering  # noqa: F401


@pytest.mark.parametrize("door", ["leads", "chatbot", "kohomai", "kickofflabs", "vcita"])
def test_a_retry_after_a_lost_answer_answers_in_the_doors_shape_and_counts_once(
    client,
    default_api: ApiWorld,
    door,
    dies_before_answering,  # noqa: F811
):
    path, headers, body = _doors(default_api)[door]
    keyed = {**headers, "Idempotency-Key": f"lost-{door}"}

    died = client.post(path, headers=keyed, json=body)
    retry = client.post(path, headers=keyed, json=body)
    # The same door's answer to another person, for its shape.
    other = {key: "y@example.com" if key.lower() == "email" else v for key, v in body.items()}
    usual = client.post(path, headers=headers, json=other)

    assert died.status_code == 500
    db.session.rollback()
    db.session.expire_all()
    lead = db.session.scalar(db.select(Lead).filter_by(email="x@example.com"))
    assert lead.counter == 1
    assert db.session.scalar(db.select(db.func.count()).select_from(Lead)) == 2
    assert retry.status_code == usual.status_code
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.get_json().keys() == usual.get_json().keys()
    assert lead.id in retry.get_data(as_text=True)
