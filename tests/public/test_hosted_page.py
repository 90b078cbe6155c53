"""The hosted registration page /r/<ref>: the form as built, registering, errors, success."""

from __future__ import annotations

import re

import pytest

from leadsite.extensions import db
from leadsite.models import DataPointType, FunnelStatus, JourneyData, Lead, OriginKind
from tests import factories
from tests.public.helpers import post_form


@pytest.fixture
def built_origin():
    """A page origin whose form builder chose a field of every kind, and a consent box."""
    ws = factories.workspace()
    factories.data_point(ws, "company", help_text="Where you work")
    factories.data_point(ws, "team_size", type=DataPointType.NUMBER)
    factories.data_point(ws, "start", type=DataPointType.DATE, label="Start date")
    factories.data_point(ws, "plan", type=DataPointType.CHOICE, choices=["Starter", "Growth"])
    factories.data_point(ws, "size", type=DataPointType.CHOICE, choices=["Small", "Large"])
    factories.data_point(ws, "student", type=DataPointType.BOOLEAN, label="I am a student")
    factories.data_point(ws, "site", type=DataPointType.URL, label="Website")
    fields = [
        {"field": "first_name", "required": True},
        {"field": "email", "label": "Work email", "help": "We never share it."},
        {"field": "phone"},
        {"data_point": "company", "required": True},
        {"data_point": "team_size"},
        {"data_point": "start"},
        {"data_point": "plan"},
        {"data_point": "size", "widget": "radios"},
        {"data_point": "student"},
        {"data_point": "site"},
    ]
    settings = {
        "title": "Join the beta",
        "intro": "Two minutes, no more.",
        "consent": {"text": "I agree to the terms of 2026.", "version": "v3"},
    }
    return factories.origin(
        factories.staged_funnel(ws), OriginKind.PAGE, form_fields=fields, settings=settings
    )


def test_the_page_shows_title_intro_and_every_chosen_field_by_type(client, built_origin):
    body = client.get(f"/r/{built_origin.ref}").get_data(as_text=True)

    assert "<h1>Join the beta</h1>" in body and "Two minutes, no more." in body
    assert re.search(r'<label for="f-first-name">First name<span class="req"', body)
    assert 'type="email" id="f-email" name="email"' in body and "Work email" in body
    assert 'id="f-email-help">We never share it.' in body
    assert 'aria-describedby="f-email-help"' in body
    assert 'type="tel" id="f-phone"' in body
    assert 'id="f-data-company-help">Where you work' in body
    assert 'id="f-data-team-size" name="data.team_size" value="" inputmode="decimal"' in body
    assert 'type="date" id="f-data-start"' in body
    assert '<select id="f-data-plan" name="data.plan"' in body and "<option>Growth</option>" in body
    assert 'type="radio" id="f-data-size-2" name="data.size" value="Large"' in body
    assert 'type="checkbox" id="f-data-student" name="data.student"' in body
    assert 'type="url" id="f-data-site"' in body
    assert '<label for="f-consent">I agree to the terms of 2026.</label>' in body


def test_the_funnel_identifier_is_always_on_the_form_and_required(client):
    funnel = factories.staged_funnel(factories.workspace(), identifier="phone")
    origin = factories.origin(funnel, OriginKind.PAGE, form_fields=[{"field": "first_name"}])

    body = client.get(f"/r/{origin.ref}").get_data(as_text=True)

    assert re.search(r'id="f-phone" name="phone"[^>]* required', body)


def test_submitting_registers_the_lead_with_data_consent_and_attribution(client, built_origin):
    response = post_form(
        client,
        f"/r/{built_origin.ref}",
        built_origin.ref,
        first_name="Ada",
        email="Ada@Example.com",
        phone="+44 20 7946 0958",
        **{
            "data.company": "Analytical Engines",
            "data.team_size": "12",
            "data.start": "2027-01-15",
            "data.plan": "Growth",
            "data.size": "Large",
            "data.student": "on",
            "data.site": "https://engines.example",
        },
        _consent="on",
        _source_url="https://leads.example/r/x?utm_source=news&utm_campaign=launch",
        _referrer="https://search.example/?q=beta",
        _utm_source="news",
        _utm_campaign="launch",
    )

    assert response.status_code == 200
    assert "Thank you" in response.get_data(as_text=True)
    lead = db.session.scalar(db.select(Lead))
    assert (lead.email, lead.first_name, lead.phone) == ("ada@example.com", "Ada", "+442079460958")
    assert lead.utm_source == "news" and lead.utm_campaign == "launch"
    assert lead.source_url == "https://leads.example/r/x?utm_source=news&utm_campaign=launch"
    assert lead.referrer == "https://search.example/?q=beta"
    assert lead.ip == "203.0.113.9"
    assert lead.opt_in is True
    assert lead.consent["text"] == "I agree to the terms of 2026."
    assert lead.consent["version"] == "v3"
    assert lead.consent["ip"] == "203.0.113.9"
    assert lead.consent["user_agent"].startswith("Werkzeug")
    assert lead.consent["given_at"].endswith("Z")
    data = {item.data_point.name: item.value for item in db.session.scalars(db.select(JourneyData))}
    assert data == {
        "company": "Analytical Engines",
        "team_size": 12,
        "start": "2027-01-15",
        "plan": "Growth",
        "size": "Large",
        "student": True,
        "site": "https://engines.example",
    }


def test_the_get_puts_the_page_url_its_utm_and_referrer_into_the_form(client):
    origin = factories.origin(factories.staged_funnel(factories.workspace()), OriginKind.PAGE)

    body = client.get(
        f"/r/{origin.ref}?utm_source=mail&utm_medium=email",
        headers={"Referer": "https://news.example/issue-9"},
    ).get_data(as_text=True)

    assert f'name="_source_url" value="http://localhost/r/{origin.ref}?utm_source=mail&amp;' in body
    assert 'name="_referrer" value="https://news.example/issue-9"' in body
    assert 'name="_utm_source" value="mail"' in body
    assert 'name="_utm_medium" value="email"' in body


def test_errors_appear_on_their_fields_with_everything_typed_kept(client, built_origin):
    response = post_form(
        client,
        f"/r/{built_origin.ref}",
        built_origin.ref,
        email="not an email",
        **{"data.team_size": "a dozen", "data.company": "", "data.plan": "Growth"},
        _source_url="https://leads.example/landing",
    )

    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "<title>Error: Join the beta</title>" in body
    assert re.search(
        r'id="f-first-name"[^>]*aria-describedby="f-first-name-error" '
        r'aria-invalid="true" autofocus',
        body,
    )
    assert 'id="f-first-name-error"><span class="sr">Error: </span>Enter your first name' in body
    assert 'value="not an email"' in body
    assert 'aria-describedby="f-email-help f-email-error" aria-invalid="true"' in body
    assert "Enter your company" in body
    assert 'value="a dozen"' in body and "Team size must be a number" in body
    assert "<option selected>Growth</option>" in body
    assert 'name="_source_url" value="https://leads.example/landing"' in body
    assert body.count("autofocus") == 1
    assert '<a href="#f-first-name">Enter your first name</a>' in body
    assert db.session.scalar(db.select(Lead)) is None


def test_a_script_gets_only_the_form_region_back(client, built_origin):
    response = post_form(client, f"/r/{built_origin.ref}", built_origin.ref, fragment=True)

    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<html" not in body
    assert body.strip().startswith('<div id="lead-form"')
    assert 'class="error-summary" role="alert"' in body
    assert "X-Leadsite-Fragment" in response.headers["Vary"]


def test_required_consent_must_be_given(client):
    settings = {"consent": {"text": "Yes, email me.", "version": "1", "required": True}}
    origin = factories.origin(
        factories.staged_funnel(factories.workspace()), OriginKind.PAGE, settings=settings
    )

    response = post_form(client, f"/r/{origin.ref}", origin.ref, email="ada@example.com")

    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert 'id="f-consent"' in body and 'aria-describedby="f-consent-error"' in body
    assert "Tick the box to give your consent" in body
    assert db.session.scalar(db.select(Lead)) is None


def test_a_duplicate_is_shown_on_the_identifier_when_the_funnel_rejects_them(client):
    ws = factories.workspace()
    origin = factories.origin(factories.staged_funnel(ws, on_duplicate="reject"), OriginKind.PAGE)
    factories.lead(ws, email="ada@example.com")

    response = post_form(client, f"/r/{origin.ref}", origin.ref, email="ada@example.com")

    assert response.status_code == 422
    assert "This email is already registered." in response.get_data(as_text=True)


def test_success_shows_the_origin_success_message(client):
    origin = factories.origin(
        factories.staged_funnel(factories.workspace()),
        OriginKind.PAGE,
        success_message="See you on Monday!",
    )

    response = post_form(client, f"/r/{origin.ref}", origin.ref, email="ada@example.com")

    assert response.status_code == 200
    assert "See you on Monday!" in response.get_data(as_text=True)


def test_success_redirects_to_the_origin_redirect_url_which_form_action_allows(client):
    origin = factories.origin(
        factories.staged_funnel(factories.workspace()),
        OriginKind.PAGE,
        redirect_url="https://shop.example:8443/thanks",
    )

    page = client.get(f"/r/{origin.ref}")
    response = post_form(client, f"/r/{origin.ref}", origin.ref, email="ada@example.com")

    assert (
        "form-action 'self' https://shop.example:8443;" in page.headers["Content-Security-Policy"]
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "https://shop.example:8443/thanks"


def test_a_journey_redirect_elsewhere_is_followed_from_our_page(client):
    ws = factories.workspace()
    funnel = factories.staged_funnel(ws)
    origin = factories.origin(funnel, OriginKind.PAGE, redirect_url="https://a.example/thanks")
    journey = factories.journey(factories.lead(ws, email="ada@example.com"), funnel, origin)
    journey.redirect_url = "https://b.example/welcome"
    db.session.commit()

    response = post_form(client, f"/r/{origin.ref}", origin.ref, email="ada@example.com")
    fragment = post_form(client, f"/r/{origin.ref}", origin.ref, True, email="ada@example.com")

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<meta http-equiv="refresh" content="0; url=https://b.example/welcome">' in body
    assert 'href="https://b.example/welcome"' in body
    assert 'data-redirect="https://b.example/welcome"' in fragment.get_data(as_text=True)


def test_the_pages_set_no_cookie(client, built_origin):
    page = client.get(f"/r/{built_origin.ref}")
    sent = post_form(client, f"/r/{built_origin.ref}", built_origin.ref, email="a@example.com")

    assert "Set-Cookie" not in page.headers and "Set-Cookie" not in sent.headers
    assert page.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"active": False}, 404),
        ({"funnel_status": FunnelStatus.ENDED}, 423),
        ({"funnel_status": FunnelStatus.DRAFT}, 423),
    ],
)
def test_an_inactive_origin_or_closed_funnel_shows_registrations_are_closed(client, change, status):
    funnel = factories.staged_funnel(factories.workspace())
    origin = factories.origin(funnel, OriginKind.PAGE)
    origin.active = change.get("active", True)
    funnel.status = change.get("funnel_status", FunnelStatus.ACTIVE)
    db.session.commit()

    shown = client.get(f"/r/{origin.ref}")
    sent = post_form(client, f"/r/{origin.ref}", origin.ref, email="ada@example.com")

    for response in (shown, sent):
        body = response.get_data(as_text=True)
        assert response.status_code == status
        assert "<form" not in body
        assert ("Registrations are closed" if status == 423 else "does not exist") in body
    assert db.session.scalar(db.select(Lead)) is None


@pytest.mark.parametrize("kind", [OriginKind.API, OriginKind.EMBED, None])
def test_an_unknown_ref_or_an_origin_of_another_kind_is_404(client, kind):
    ref = "nosuchref"
    if kind is not None:
        ref = factories.origin(factories.staged_funnel(factories.workspace()), kind).ref

    response = client.get(f"/r/{ref}")

    assert response.status_code == 404
    assert "This form does not exist" in response.get_data(as_text=True)


def test_the_page_reads_the_form_as_the_back_office_builder_stores_it(client):
    ws = factories.workspace()
    factories.data_point(ws, "company")
    fields = [
        {
            "name": "first_name",
            "field": "first_name",
            "label": "Given name",
            "required": True,
            "help": None,
        },
        {
            "name": "data.company",
            "data_point": "company",
            "label": "Employer",
            "required": False,
            "help": "Optional",
        },
        {"name": "email", "field": "email", "label": "Email", "required": True, "help": None},
    ]
    settings = {
        "title": None,
        "intro": None,
        "submit_label": "Join",
        "consent": None,
        "consent_text": None,
        "consent_version": None,
        "consent_required": False,
    }
    origin = factories.origin(
        factories.staged_funnel(ws), OriginKind.PAGE, form_fields=fields, settings=settings
    )

    body = client.get(f"/r/{origin.ref}").get_data(as_text=True)

    assert "<h1>Onboarding</h1>" in body  # no title: the funnel's name
    assert "Given name" in body and "Employer" in body and 'id="f-data-company-help"' in body
    assert ">Join</button>" in body and 'id="f-consent"' not in body
