"""Every string that reaches a bounded column of the lead is refused (what the client sent) or
cut (what its request carried) before it gets there: PostgreSQL would answer a 500."""

from __future__ import annotations

import pytest

from leadsite.extensions import db
from leadsite.models import Lead, LeadStatus, OriginKind
from tests import factories
from tests.public.helpers import aged_token

# Body key, the field the error names, the column's size.
BOUNDED_FIELDS = [
    ("first_name", "first_name", 100),
    ("last_name", "last_name", 100),
    ("unique_id", "unique_id", 200),
    ("address", "address", 500),
    ("status", "status", 40),
    ("source", "source", 200),
    ("utm_source", "utm_source", 200),
    ("utm_medium", "utm_medium", 200),
    ("utm_campaign", "utm_campaign", 200),
    ("utm_term", "utm_term", 200),
    ("utm_content", "utm_content", 200),
]


@pytest.mark.parametrize(("key", "field", "size"), BOUNDED_FIELDS)
def test_a_value_longer_than_its_column_is_a_422(api, key, field, size):
    if key == "status":  # a status must be one of the workspace's: one as long as they go
        db.session.add(LeadStatus(workspace_id=api.workspace.id, key="x" * size, name="Long"))
        db.session.commit()
    response = api.register({"Email": "ada@example.com", key: "x" * (size + 1)})

    assert response.status_code == 422
    assert response.json["details"]["field"] == field
    assert api.register({"Email": "ada@example.com", key: "x" * size}).status_code == 201


@pytest.mark.parametrize("key", ["SourceURL", "RedirectURL"])
def test_a_url_longer_than_its_column_is_a_422(api, key):
    response = api.register({"Email": "ada@example.com", key: "https://a.example/" + "x" * 2000})

    assert response.status_code == 422


def test_an_ip_with_a_long_zone_is_stored_without_it(api):
    response = api.register({"Email": "ada@example.com", "ip": "fe80::1%" + "e" * 100})

    assert response.status_code == 201
    assert db.session.scalar(db.select(Lead.ip)) == "fe80::1"


def test_an_ip_that_is_not_one_is_a_422(api):
    response = api.register({"Email": "ada@example.com", "ip": "1" * 300})

    assert response.status_code == 422 and response.json["details"]["field"] == "ip"


def test_long_request_headers_are_cut_to_their_columns(api):
    response = api.register(
        {"Email": "ada@example.com"},
        headers={"User-Agent": "agent/" + "x" * 3000, "Referer": "https://a.example/" + "r" * 3000},
    )

    assert response.status_code == 201
    lead = db.session.scalar(db.select(Lead))
    assert (len(lead.user_agent), len(lead.referrer)) == (500, 2000)


def test_request_headers_holding_a_nul_are_kept_without_it(api):
    """`flask run` (what `make run` serves) passes a NUL in a header on (gunicorn refuses the
    request): PostgreSQL refused the lead's row, a 500."""
    response = api.register(
        {"Email": "ada@example.com"},
        headers={"User-Agent": "Evil\x00Agent", "Referer": "https://a.example/\x00r"},
    )

    assert response.status_code == 201
    lead = db.session.scalar(db.select(Lead))
    assert (lead.user_agent, lead.referrer) == ("Evil\ufffdAgent", "https://a.example/\ufffdr")


def test_a_public_form_from_an_odd_address_with_long_headers_registers(client):
    origin = factories.origin(factories.staged_funnel(factories.workspace()), OriginKind.PAGE)
    client.environ_base["HTTP_USER_AGENT"] = "agent/" + "x" * 3000

    response = client.post(
        f"/r/{origin.ref}",
        data={"_token": aged_token(origin.ref), "email": "a@example.com"},
        environ_base={"REMOTE_ADDR": "fe80::1%" + "e" * 100},
    )

    assert response.status_code == 200
    lead = db.session.scalar(db.select(Lead))
    assert (lead.ip, len(lead.user_agent)) == ("fe80::1", 500)
