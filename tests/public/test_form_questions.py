"""A form's own questions (kept in the lead's custom fields), a consent field, and conditions
checked on the server: a hidden field is not required and its answer is dropped."""

from __future__ import annotations

import html

import pytest

from leadsite.extensions import db
from leadsite.models import Lead, OriginKind
from tests import factories
from tests.public.helpers import post_form

QUESTIONS = [
    {"field": "email", "required": True},
    {"custom": "phone_2", "type": "phone", "label": "Office phone"},
    {"custom": "seats", "type": "number", "label": "Seats"},
    {"custom": "start", "type": "date", "label": "Start"},
    {"custom": "contact", "type": "email", "label": "Billing email"},
    {
        "custom": "size",
        "type": "choice",
        "label": "Team size",
        "options": ["Just me", "2-10", "11+"],
        "widget": "radios",
        "required": True,
    },
    {
        "custom": "company",
        "type": "text",
        "label": "Company",
        "required": True,
        "when": {"field": "custom.size", "op": "one_of", "value": ["2-10", "11+"]},
    },
    {
        "custom": "invoice",
        "type": "checkbox",
        "label": "Send invoices",
        "when": {"field": "custom.company", "op": "not_empty"},
    },
    {"consent": "terms", "label": "I agree to the terms (v4).", "version": "v4", "required": True},
]


@pytest.fixture
def origin():
    ws = factories.workspace()
    return factories.origin(factories.staged_funnel(ws), OriginKind.PAGE, form_fields=QUESTIONS)


def _lead(email: str) -> Lead | None:
    db.session.expire_all()
    return db.session.scalar(db.select(Lead).filter_by(email=email))


def test_each_question_type_is_shown_with_its_input(client, origin):
    body = client.get(f"/r/{origin.ref}").get_data(as_text=True)

    assert 'type="tel" id="f-custom-phone-2" name="custom.phone_2"' in body
    assert 'id="f-custom-seats" name="custom.seats" value="" inputmode="decimal"' in body
    assert 'type="date" id="f-custom-start"' in body
    assert 'type="email" id="f-custom-contact"' in body
    assert 'type="radio" id="f-custom-size-3" name="custom.size" value="11+"' in body
    assert 'type="checkbox" id="f-consent-terms" name="consent.terms" required' in body
    # Without JavaScript every field shows; a conditional one says when it counts.
    assert "Only if “Team size” is one of: 2-10, 11+." in html.unescape(body)
    assert 'data-when-field="custom.size" data-when-op="one_of"' in body


def test_answers_go_to_custom_fields_typed_with_the_consent_record(client, origin):
    response = post_form(
        client,
        f"/r/{origin.ref}",
        origin.ref,
        email="ana@example.com",
        **{
            "custom.phone_2": "+44 20 7946 0958",
            "custom.seats": "12",
            "custom.start": "2027-01-04",
            "custom.contact": "Billing@Example.com",
            "custom.size": "11+",
            "custom.company": "Acme",
            "custom.invoice": "on",
            "consent.terms": "on",
        },
    )

    assert response.status_code == 200, response.get_data(as_text=True)
    lead = _lead("ana@example.com")
    assert lead.custom_fields == {
        "phone_2": "+442079460958",
        "seats": 12,
        "start": "2027-01-04",
        "contact": "billing@example.com",
        "size": "11+",
        "company": "Acme",
        "invoice": True,
    }
    assert lead.opt_in is True
    assert (lead.consent["text"], lead.consent["version"]) == ("I agree to the terms (v4).", "v4")


def test_a_hidden_field_is_not_required_and_its_answer_is_dropped(client, origin):
    response = post_form(
        client,
        f"/r/{origin.ref}",
        origin.ref,
        email="solo@example.com",
        **{
            "custom.size": "Just me",
            "custom.invoice": "on",  # sent anyway: its condition's field is hidden too
            "consent.terms": "on",
        },
    )

    assert response.status_code == 200, response.get_data(as_text=True)
    assert _lead("solo@example.com").custom_fields == {"size": "Just me"}


def test_a_shown_conditional_field_is_required(client, origin):
    response = post_form(
        client,
        f"/r/{origin.ref}",
        origin.ref,
        email="team@example.com",
        **{"custom.size": "2-10", "consent.terms": "on"},
    )

    assert response.status_code == 422
    body = html.unescape(response.get_data(as_text=True))
    assert 'id="f-custom-company-error"><span class="sr">Error: </span>Enter your company' in body
    assert _lead("team@example.com") is None


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("custom.seats", "a dozen", "Enter “Seats” as a number"),
        ("custom.start", "next week", "Enter “Start” as a date"),
        ("custom.contact", "billing@", "Enter “Billing email” as an email address"),
        ("custom.phone_2", "12", "Enter “Office phone” as a phone number"),
        ("custom.size", "A hundred", "Choose one of the options for “Team size”"),
    ],
)
def test_an_answer_that_does_not_fit_its_type_is_refused_on_its_field(
    client, origin, name, value, message
):
    fields = {"custom.size": "Just me", "consent.terms": "on", name: value}
    response = post_form(client, f"/r/{origin.ref}", origin.ref, email="x@example.com", **fields)

    assert response.status_code == 422
    body = html.unescape(response.get_data(as_text=True))
    field_id = "f-" + name.replace(".", "-").replace("_", "-")
    assert f'id="{field_id}-error"><span class="sr">Error: </span>{message}' in body
    assert _lead("x@example.com") is None


def test_a_required_consent_field_must_be_ticked(client, origin):
    response = post_form(
        client, f"/r/{origin.ref}", origin.ref, email="y@example.com", **{"custom.size": "2-10"}
    )

    assert response.status_code == 422
    body = html.unescape(response.get_data(as_text=True))
    assert 'id="f-consent-terms-error"><span class="sr">Error: </span>Tick the box' in body
