"""What a person reads about a value they typed wrong: what is wrong and what to type, never a
library's own sentence ("@-sign", "SPACE") nor a label written twice ("Email An email ...")."""

from __future__ import annotations

import pytest

from leadsite.models import OriginKind
from tests import factories
from tests.conftest import csrf_token
from tests.public.helpers import post_form

LIBRARY_WORDS = ("@-sign", "SPACE", "Email An", "Email The", "invalid characters")


def _page(country: str = "US"):
    ws = factories.workspace()
    ws.default_country = country
    fields = [{"field": "email"}, {"field": "phone"}]
    return factories.origin(factories.staged_funnel(ws), OriginKind.PAGE, form_fields=fields)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("ada", "Email needs an @ sign. Enter an address like name@example.com."),
        (
            "ada @example.com",
            "Email cannot contain spaces. Enter an address like name@example.com.",
        ),
        ("ada@", "Email needs a domain after the @ sign. Enter an address like name@example.com."),
    ],
)
def test_a_bad_email_on_the_hosted_page_says_what_to_type(client, typed, message):
    origin = _page()

    response = post_form(client, f"/r/{origin.ref}", origin.ref, email=typed)

    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="f-email-error"><span class="sr">Error: </span>{message}</p>' in body
    assert not any(word in body for word in LIBRARY_WORDS)


@pytest.mark.parametrize(
    ("country", "example"), [("US", "+1 201-555-0123"), ("FR", "+33 1 23 45 67 89")]
)
def test_a_bad_phone_shows_a_number_of_the_workspaces_country(client, country, example):
    origin = _page(country)

    response = post_form(
        client, f"/r/{origin.ref}", origin.ref, email="ada@example.com", phone="12"
    )

    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"Phone has too few or too many digits. Enter a phone number like {example}." in body


def test_the_api_keeps_its_code_and_gives_the_same_sentence(client):
    ws = factories.workspace()
    origin = factories.origin(factories.funnel(ws), OriginKind.API)
    key = factories.api_key(ws)

    response = client.post(
        f"/api/v1/leads?ref={origin.ref}",
        json={"email": "ada @example.com"},
        headers={"Authorization": f"Bearer {key}"},
    )

    body = response.get_json()
    assert response.status_code == 422 and body["code"] == "VALIDATION_ERROR"
    assert body["details"]["field"] == "email"
    assert body["details"]["message"] == (
        "Email cannot contain spaces. Enter an address like name@example.com."
    )


def test_staff_editing_a_lead_read_one_sentence_not_the_label_twice(client, auth):
    ws = factories.workspace()
    auth.login(factories.user(ws).email)
    lead = factories.lead(ws, email="ada@example.com")
    path = f"/p/leads/{lead.id}/contact/edit"

    response = client.post(
        path,
        data={"email": "ada", "phone": "", "csrf_token": csrf_token(client, path)},
        headers={"HX-Request": "true"},
    )

    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Email needs an @ sign. Enter an address like name@example.com." in body
    assert not any(word in body for word in LIBRARY_WORDS)
