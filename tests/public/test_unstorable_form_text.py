"""A public form's field holding a NUL character (typed as `%00`, or a raw byte a script sent):
refused on its field (422, the form shown again), never stored.

From outside, on a real server: the hosted page and the embed form answered 500 on PostgreSQL
(its text columns take no NUL) and stored the NUL on SQLite; the API's doors refused it already.
"""

from __future__ import annotations

import pytest

from leadsite.extensions import db
from leadsite.models import JourneyData, Lead, OriginKind
from tests import factories
from tests.public.helpers import aged_token


@pytest.fixture
def origins() -> dict[str, str]:
    ws = factories.workspace()
    factories.data_point(ws, "company")
    funnel = factories.staged_funnel(ws)
    fields = [{"field": "first_name"}, {"field": "email"}, {"data_point": "company"}]
    return {
        kind: factories.origin(funnel, kind, form_fields=fields).ref
        for kind in (OriginKind.PAGE, OriginKind.EMBED)
    }


@pytest.mark.parametrize("door", ["r", "embed"])
@pytest.mark.parametrize(
    ("field", "encoded"),
    [
        ("first_name", b"first_name=Ada%00Lovelace"),
        ("first_name", b"first_name=Ada\x00\x00"),
        ("data.company", b"data.company=Analytical%00Engines"),
    ],
    ids=["percent-encoded", "raw-bytes", "data-point"],
)
def test_a_nul_in_a_field_is_refused_on_that_field(client, origins, door, field, encoded):
    ref = origins[OriginKind.PAGE if door == "r" else OriginKind.EMBED]
    body = f"_token={aged_token(ref)}&website=&email=ada@example.com&".encode() + encoded

    response = client.post(
        f"/{door}/{ref}",
        data=body,
        content_type="application/x-www-form-urlencoded",
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )

    assert response.status_code == 422
    assert 'class="error-summary" role="alert"' in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(Lead)) == 0
    assert db.session.scalar(db.select(db.func.count()).select_from(JourneyData)) == 0
