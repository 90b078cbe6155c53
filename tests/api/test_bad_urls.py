"""Every API door that takes a URL answers a precise 422 for one `urlsplit` cannot read, and a
lead whose stored URLs do not parse still reads back."""

from __future__ import annotations

import pytest

from leadsite.extensions import db
from leadsite.models import Journey, Lead
from tests import factories
from tests.bad_values import BAD_URL_IDS, BAD_URLS, STORED_BAD_URLS

URL_FIELDS = [
    ("RedirectURL", "redirect_url"),
    ("SourceURL", "source_url"),
    ("__url", "source_url"),
]


def _error(response, field: str) -> dict:
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.json["code"] == "VALIDATION_ERROR"
    matching = [e for e in response.json["errors"] if e["field"] == field]
    assert matching, response.json["errors"]
    return matching[0]


@pytest.mark.parametrize(("raw", "message"), BAD_URLS, ids=BAD_URL_IDS)
@pytest.mark.parametrize(("key", "field"), URL_FIELDS)
def test_a_bad_url_in_a_registration_is_a_422_on_its_field(api, raw, message, key, field):
    response = api.register({"Email": "ada@example.com", key: raw})

    assert message in _error(response, field)["message"]
    assert db.session.scalar(db.select(db.func.count()).select_from(Lead)) == 0


@pytest.mark.parametrize(("raw", "message"), BAD_URLS, ids=BAD_URL_IDS)
def test_a_bad_webhook_input_url_is_a_422(api, raw, message):
    response = api.register({"Email": "ada@example.com", "WebhookInput": {"Url": raw}})

    assert message in _error(response, "webhook_input.url")["message"]


@pytest.mark.parametrize(("raw", "message"), BAD_URLS, ids=BAD_URL_IDS)
def test_a_bad_value_for_a_url_data_point_is_a_422(api, raw, message):
    factories.data_point(api.workspace, "website", type="url")

    response = api.register(
        {"Email": "ada@example.com", "JourneyData": [{"Name": "website", "Value": raw}]}
    )

    assert message in _error(response, "journey_data[0].value")["message"]


@pytest.mark.parametrize(("raw", "message"), BAD_URLS, ids=BAD_URL_IDS)
def test_a_bad_webhook_url_is_a_422_on_create_and_on_change(api, raw, message):
    created = api.client.post("/api/v1/webhooks", headers=api.auth, json={"url": raw})
    assert message in _error(created, "url")["message"]

    endpoint = factories.webhook_endpoint(api.workspace)
    changed = api.client.patch(
        f"/api/v1/webhooks/{endpoint.id}", headers=api.auth, json={"url": raw}
    )
    assert message in _error(changed, "url")["message"]


@pytest.mark.parametrize("referer", ["http://[x/", "http://a:99999/"])
def test_a_bad_referer_header_does_not_stop_a_registration(api, referer):
    response = api.register({"Email": "ada@example.com"}, headers={"Referer": referer})

    assert response.status_code == 201


@pytest.mark.parametrize("stored", STORED_BAD_URLS)
def test_a_lead_with_bad_stored_urls_reads_and_lists(api, stored):
    lead = factories.lead(api.workspace, source_url=stored, referrer=stored)
    journey = factories.journey(lead, api.funnel, api.origin)
    db.session.execute(
        db.update(Journey).where(Journey.id == journey.id).values(redirect_url=stored)
    )
    factories.webhook_endpoint(api.workspace, url=stored)
    db.session.commit()

    assert api.get(f"/api/v1/leads/{lead.id}").status_code == 200
    assert api.get("/api/v1/leads").status_code == 200
    assert api.get(f"/api/v1/journeys/{journey.id}").status_code == 200
    assert api.get("/api/v1/webhooks").status_code == 200
