"""The API's and webhooks' dicts of a lead and a journey read what the attributes would read."""

from __future__ import annotations

import pytest

from leadsite import representations
from leadsite.extensions import db
from leadsite.journeys import start_journey
from leadsite.models import Lead
from leadsite.representations import journey_summary, lead_dict
from tests import factories


def _through_attributes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(representations, "columns_of", lambda obj: lambda n: getattr(obj, n))


def test_a_stored_lead_whose_values_are_expired_is_read_from_the_database(app):
    ws = factories.workspace()
    lead = factories.lead(ws, first_name="Ada", tags=["vip"], custom_fields={"company": "X"})
    # Expired (as after a refresh): the dict must load them, not take them as None.
    db.session.expire(lead)
    assert "first_name" not in lead.__dict__

    data = lead_dict(lead)

    assert data["email"] == lead.email and data["first_name"] == "Ada"
    assert data["tags"] == ["vip"] and data["custom_fields"] == {"company": "X"}
    assert data["created_at"] is not None and data["counter"] == lead.counter


def test_a_new_lead_and_journey_read_as_their_attributes_would(app, monkeypatch):
    # Built in memory, as a registration builds them before its write: the columns never set
    # are None, those set (and the defaults) their values.
    ws = factories.workspace()
    fnl = factories.staged_funnel(ws)
    lead = Lead(workspace_id=ws.id, email="new@example.com", first_name="Grace")
    journey = start_journey(lead, fnl, None)
    assert lead not in db.session and journey not in db.session

    fast = lead_dict(lead), journey_summary(journey)
    _through_attributes(monkeypatch)

    assert fast == (lead_dict(lead), journey_summary(journey))
    assert fast[0]["phone"] is None and fast[0]["first_name"] == "Grace"


def test_a_stored_journey_reads_as_its_attributes_would(app, monkeypatch):
    ws = factories.workspace()
    journey = factories.journey(factories.lead(ws), factories.staged_funnel(ws))
    db.session.expire(journey)

    fast = journey_summary(journey)
    db.session.expire(journey)
    _through_attributes(monkeypatch)

    assert fast == journey_summary(journey)
    assert fast["id"] == journey.id and fast["url_valid_until"] is not None
