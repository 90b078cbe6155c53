"""Staff screens name what rows store in words: "Back-office" and "API", never `backoffice` or
`api`; "HTTP 502 Bad Gateway", never a bare 502."""

from __future__ import annotations

import re
from http import HTTPStatus

from leadsite.models import OriginKind
from leadsite.registration import LeadInput, RegistrationContext, register
from tests import factories


def _cell_texts(body: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", body)]


def test_the_ingestion_log_names_the_door_and_the_status_it_answered(client, auth):
    ws = factories.workspace()
    auth.login(factories.user(ws).email)
    origin = factories.origin(factories.staged_funnel(ws), OriginKind.API)
    key = factories.api_key(ws)
    client.post(
        f"/api/v1/leads?ref={origin.ref}",
        json={"email": "broken"},
        headers={"Authorization": f"Bearer {key}"},
    )

    body = client.get(f"/p/funnels/edit/{origin.funnel_id}/origins/{origin.id}").get_data(
        as_text=True
    )

    cells = _cell_texts(body)
    assert "API" in cells and "leadsite" not in cells
    assert f"HTTP 422 {HTTPStatus(422).phrase}" in cells and "422" not in cells


def test_the_dashboard_names_an_origins_kind_in_words(client, auth):
    ws = factories.workspace()
    auth.login(factories.user(ws).email)
    origin = factories.origin(factories.staged_funnel(ws, name="Trials"), OriginKind.BACKOFFICE)
    register(origin, LeadInput(email="ada@example.com"), RegistrationContext())

    body = client.get("/p/").get_data(as_text=True)

    assert "Trials · Back-office" in body and "· backoffice" not in body


def test_a_failed_webhook_on_the_lead_page_says_what_the_receiver_answered(client, auth):
    ws = factories.workspace()
    auth.login(factories.user(ws).email)
    lead = factories.lead(ws, email="ada@example.com")
    factories.delivery_attempt(
        lead, status_code=502, error="HTTP 502 Bad Gateway — the server answered with an error"
    )

    body = client.get(f"/p/leads/{lead.id}").get_data(as_text=True)

    assert "HTTP 502 Bad Gateway — the server answered with an error" in body
    assert ">502</span>" not in body
