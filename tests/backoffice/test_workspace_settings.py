"""Workspace settings: a searchable list of current time zones, countries by name."""

from __future__ import annotations

import pytest

from leadsite.extensions import db
from leadsite.models import Workspace
from tests import factories
from tests.conftest import csrf_token

HTMX = {"HX-Request": "true"}


def _sign_in(auth) -> Workspace:
    ws = factories.workspace("Acme")
    auth.login(factories.user(ws).email)
    return ws


def _save(client, **fields: str):
    data = {"name": "Acme", "timezone": "UTC", "default_country": "US", "sender_email": ""}
    data |= fields
    data["csrf_token"] = csrf_token(client, "/p/settings/workspace")
    return client.post("/p/settings/workspace", data=data, headers=HTMX)


def test_the_time_zone_is_typed_with_suggestions_of_current_names_only(client, auth):
    _sign_in(auth)

    body = client.get("/p/settings/workspace").get_data(as_text=True)

    assert 'list="time-zones"' in body and '<datalist id="time-zones">' in body
    assert '<option value="Europe/Amsterdam">Netherlands</option>' in body
    assert '<option value="America/Los_Angeles">United States</option>' in body
    assert '<option value="UTC">Coordinated Universal Time</option>' in body
    for old in ("US/Pacific", "GMT+0", "Asia/Calcutta", "Europe/Kiev", "Etc/GMT+5"):
        assert f'value="{old}"' not in body


def test_countries_are_listed_by_name(client, auth):
    _sign_in(auth)

    body = client.get("/p/settings/workspace").get_data(as_text=True)

    assert '<option value="NL">Netherlands</option>' in body
    assert '<option selected value="US">United States</option>' in body
    select = body[body.index('id="default_country"') :]
    assert select.index(">Afghanistan<") < select.index(">Albania<") < select.index(">Zimbabwe<")


def test_a_current_name_and_a_country_are_saved(client, auth):
    ws = _sign_in(auth)

    response = _save(client, timezone=" Asia/Kolkata ", default_country="IN")

    assert response.status_code == 302
    db.session.refresh(ws)
    assert (ws.timezone, ws.default_country) == ("Asia/Kolkata", "IN")


@pytest.mark.parametrize(
    ("timezone", "message"),
    [
        ("US/Pacific", "US/Pacific is an old name: choose America/Los_Angeles."),
        ("Asia/Calcutta", "Asia/Calcutta is an old name: choose Asia/Kolkata."),
        ("Mars/Olympus", "Choose a time zone from the list, such as Europe/Paris"),
        ("", "This field is required."),
    ],
)
def test_other_time_zones_are_refused_on_the_field(client, auth, timezone, message):
    ws = _sign_in(auth)

    response = _save(client, timezone=timezone)

    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'<p class="error" id="timezone-error">{message}' in body
    db.session.refresh(ws)
    assert ws.timezone == "UTC"


def test_an_unknown_country_is_refused_on_the_field(client, auth):
    _sign_in(auth)

    response = _save(client, default_country="XX")

    assert response.status_code == 422
    assert '<p class="error" id="default_country-error">Not a valid choice.' in response.get_data(
        as_text=True
    )
