"""What a form submission came to, and registrations of every origin kind, new or returning."""

from __future__ import annotations

import pytest

from leadsite.extensions import db
from leadsite.models import Funnel, OnDuplicate, OriginKind
from leadsite.registration import LeadInput, RegistrationContext, ValidationFailed, register
from tests import factories
from tests.analytics.helpers import counts, total
from tests.public.helpers import post_form

FIELDS = [
    {"field": "first_name", "required": True},
    {"field": "email", "required": True},
    {"data_point": "team_size"},
]


@pytest.fixture
def hosted():
    ws = factories.workspace()
    factories.data_point(ws, "team_size", type="number")
    return factories.origin(factories.staged_funnel(ws), OriginKind.PAGE, form_fields=FIELDS)


def send(client, origin, **fields: str):
    fields.setdefault("_referrer", "https://www.google.com/search?q=leads")
    fields.setdefault("_utm_campaign", "spring")
    return post_form(client, f"/r/{origin.ref}", origin.ref, **fields)


def test_a_valid_submission_counts_a_submit_and_a_new_registration(client, hosted):
    assert send(client, hosted, first_name="Ada", email="ada@example.com").status_code == 200

    assert counts(hosted) == {
        ("submit", "", "www.google.com", "spring"): 1,
        ("registered_new", "", "www.google.com", "spring"): 1,
    }


def test_a_submission_refused_by_validation_counts_once_per_failing_field(client, hosted):
    response = send(client, hosted, first_name="", email="ada@", **{"data.team_size": "a few"})

    assert response.status_code == 422
    assert counts(hosted, "invalid") == {
        ("invalid", "first_name", "www.google.com", "spring"): 1,
        ("invalid", "email", "www.google.com", "spring"): 1,
        ("invalid", "data.team_size", "www.google.com", "spring"): 1,
    }
    assert total(hosted, "submit") == 1 and total(hosted, "registered_new") == 0

    send(client, hosted, first_name="Ada", email="ada@")
    assert counts(hosted, "invalid")[("invalid", "email", "www.google.com", "spring")] == 2


def test_a_duplicate_refused_by_the_funnel_is_a_failure_of_its_field(client, hosted):
    db.session.get(Funnel, hosted.funnel_id).on_duplicate = OnDuplicate.REJECT
    db.session.commit()
    send(client, hosted, first_name="Ada", email="ada@example.com")

    assert send(client, hosted, first_name="Ada", email="ada@example.com").status_code == 422

    assert total(hosted, "invalid") == 1
    assert counts(hosted, "invalid") == {("invalid", "email", "www.google.com", "spring"): 1}


def test_a_bots_submission_counts_as_held_not_registered(client, hosted):
    send(client, hosted, first_name="Ada", email="ada@example.com", website="spam.example")

    assert total(hosted, "submit") == 1 and total(hosted, "held") == 1
    assert total(hosted, "registered_new") == 0


def test_a_returning_lead_counts_as_returning(client, hosted):
    send(client, hosted, first_name="Ada", email="ada@example.com")
    send(client, hosted, first_name="Ada", email="ADA@example.com", _utm_campaign="")

    assert counts(hosted, "registered_new") == {
        ("registered_new", "", "www.google.com", "spring"): 1
    }
    assert counts(hosted, "registered_returning") == {
        ("registered_returning", "", "www.google.com", ""): 1
    }


def test_api_registrations_count_new_and_returning_with_referrer_and_campaign(client):
    ws = factories.workspace()
    origin = factories.origin(factories.staged_funnel(ws), OriginKind.API)
    headers = {
        "Authorization": f"Bearer {factories.api_key(ws)}",
        "Referer": "https://blog.example.org/launch",
    }
    body = {"email": "ada@example.com", "utm": {"utm_campaign": "launch"}}
    for _ in range(2):
        answer = client.post(f"/api/v1/leads?ref={origin.ref}", json=body, headers=headers)
        assert answer.status_code in (200, 201)

    assert counts(origin) == {
        ("registered_new", "", "blog.example.org", "launch"): 1,
        ("registered_returning", "", "blog.example.org", "launch"): 1,
    }


@pytest.mark.parametrize("kind", [OriginKind.BACKOFFICE, OriginKind.IMPORT, OriginKind.EMBED])
def test_every_kind_of_origin_counts_its_registrations(kind):
    origin = factories.origin(factories.staged_funnel(factories.workspace()), kind)
    source = "https://shop.example/p?utm_campaign=fall&utm_source=mail"

    register(origin, LeadInput(email="ada@example.com", source_url=source), RegistrationContext())
    register(origin, LeadInput(email="ada@example.com"), RegistrationContext())

    assert counts(origin) == {
        ("registered_new", "", "", "fall"): 1,
        ("registered_returning", "", "", ""): 1,
    }


def test_a_registration_that_fails_counts_nothing(hosted):
    with pytest.raises(ValidationFailed):
        register(hosted, LeadInput(email="not an email"), RegistrationContext())

    assert counts(hosted) == {}
