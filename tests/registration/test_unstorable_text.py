"""Text no column can hold (a NUL, a lone surrogate) is a field's error in the pipeline itself,
whatever door it came through: the HTTP doors refuse it before (`api.body`), but `register()`
is also called by the CLI import and by Python code. Before, a lone surrogate went on to the
write: sqlite3's UnicodeEncodeError, PostgreSQL's "invalid byte sequence", a 500 or a lost
batch."""

from __future__ import annotations

import pytest

from leadsite.extensions import db
from leadsite.models import Lead, OriginKind
from leadsite.registration import LeadInput, RegistrationContext, ValidationFailed, register
from leadsite.registration.batch import register_many
from tests import factories


@pytest.mark.parametrize(
    ("text", "message"),
    [("Ada\x00", "must not contain NUL characters"), ("Ada\ud800", "must be valid Unicode text")],
    ids=["nul", "lone-surrogate"],
)
def test_unstorable_text_is_the_fields_error_and_nothing_is_written(text, message):
    ws = factories.workspace()
    origin = factories.origin(factories.staged_funnel(ws), OriginKind.IMPORT)
    db.session.commit()

    with pytest.raises(ValidationFailed) as refused:
        register(origin, LeadInput(email="ada@example.com", last_name=text), RegistrationContext())
    db.session.rollback()
    outcomes = register_many(
        origin,
        [LeadInput(email="bob@example.com", tags=[text]), LeadInput(email="cy@example.com")],
        RegistrationContext(),
    )
    db.session.commit()

    assert [(e.field, e.message) for e in refused.value.errors] == [
        ("last_name", f"Last name {message}")
    ]
    assert [(o.status, o.http_status) for o in outcomes] == [("rejected", 422), ("created", 201)]
    assert [e.field for e in outcomes[0].errors] == ["tags[0]"]
    assert outcomes[0].errors[0].message.endswith(message)
    assert db.session.scalars(db.select(Lead.email)).all() == ["cy@example.com"]
