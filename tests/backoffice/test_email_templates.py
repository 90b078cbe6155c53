"""Email activities in the editor: unknown variables refused at save, a preview on a chosen
lead, "Send me a test" through the outbox to a real SMTP server, and the journey link once."""

from __future__ import annotations

import pytest

from leadsite.extensions import db
from leadsite.models import (
    Activity,
    ActivityKind,
    JourneyStep,
    OriginKind,
    OutboxMessage,
    Role,
    StepStatus,
)
from leadsite.outbox import worker
from leadsite.registration import LeadInput, RegistrationContext, register
from leadsite.registration.inputs import JourneyDataInput
from tests import factories
from tests.conftest import csrf_token
from tests.servers import smtp_server

HTMX = {"HX-Request": "true"}


@pytest.fixture
def world(auth):
    """A signed-in manager's funnel with a stage, the data point `company`, and a lead's journey."""
    ws = factories.workspace("Acme")
    user = factories.user(ws, role=Role.MANAGER, email="maria@acme.example")
    auth.login(user.email)
    factories.data_point(ws, "company")
    funnel = factories.funnel(ws, name="Onboarding")
    stage = factories.stage(funnel, "Welcome")
    origin = factories.origin(funnel, OriginKind.API)
    lead = register(
        origin,
        LeadInput(
            email="ada@example.com",
            first_name="Ada",
            journey_data=[JourneyDataInput(name="company", value="Initech")],
        ),
        RegistrationContext(),
    ).lead
    return ws, funnel, stage, lead


def _post(client, path: str, data: dict[str, object], **kwargs: object):
    return client.post(
        path, data={**data, "activity-csrf_token": csrf_token(client, "/p/")}, **kwargs
    )


def _email_form(kind: str = "email_lead", **fields: str) -> dict[str, object]:
    sent = {"title": "Welcome", **fields}
    return {"kind": kind, "preview_kind": kind, **{f"activity-{k}": v for k, v in sent.items()}}


def _activities() -> list[Activity]:
    db.session.expire_all()
    return list(db.session.scalars(db.select(Activity)))


def test_an_unknown_variable_is_refused_at_save_on_its_field_with_a_suggestion(client, world):
    _, funnel, stage, _ = world
    url = f"/p/funnels/edit/{funnel.id}/stages/{stage.id}/activities/new"
    form = _email_form(subject="You're in, {{ lead.first_nme }}!", body="From {{ data.compnay }}")

    response = _post(client, url, form, headers=HTMX)

    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert (
        '<p class="error" id="activity-subject-error">Unknown variable `lead.first_nme`: '
        "did you mean `lead.first_name`?</p>"
    ) in body
    assert (
        '<p class="error" id="activity-body-error">Unknown variable `data.compnay`: '
        "did you mean `data.company`?</p>"
    ) in body
    assert _activities() == []


def test_a_notification_subject_is_checked_too(client, world):
    _, funnel, stage, _ = world
    url = f"/p/funnels/edit/{funnel.id}/stages/{stage.id}/activities/new"

    response = _post(client, url, _email_form("notify_staff", subject="Lead: {{ lead.emial }}"))

    assert response.status_code == 422
    assert "Unknown variable `lead.emial`: did you mean `lead.email`?" in response.get_data(
        as_text=True
    )


def test_a_valid_template_saves(client, world):
    _, funnel, stage, _ = world
    url = f"/p/funnels/edit/{funnel.id}/stages/{stage.id}/activities/new"
    body = "{% for tag in lead.tags %}{{ tag }} {% endfor %}{{ data.company }} {{ journey_url }}"
    form = _email_form(subject="You're in, {{ lead.first_name }}!", body=body)

    response = _post(client, url, form)

    assert response.status_code == 302
    [activity] = _activities()
    assert activity.config == {"subject": "You're in, {{ lead.first_name }}!", "body": body}


def test_a_stored_activity_with_an_unknown_variable_still_runs(app, world):
    _, _, stage, _ = world
    factories.activity(stage, ActivityKind.EMAIL_LEAD, "Old", subject="Hi {{ lead.first_nme }}")
    ws = stage.funnel.workspace_id
    origin = factories.origin(stage.funnel, OriginKind.API)
    register(origin, LeadInput(email="bo@example.com"), RegistrationContext())

    worker.run_once()

    db.session.expire_all()
    statuses = db.session.scalars(db.select(JourneyStep.status)).all()
    assert statuses and set(statuses) == {StepStatus.DONE}, ws


def test_the_preview_renders_on_the_chosen_lead(client, world):
    _, funnel, stage, lead = world
    journey = lead.journeys[0]
    url = f"/p/funnels/edit/{funnel.id}/stages/{stage.id}/email-preview"
    form = _email_form(
        subject="Welcome, {{ lead.first_name }}", body="{{ data.company }} <b>is in</b>."
    )

    response = _post(client, url, {**form, "preview_journey": journey.id}, headers=HTMX)

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Rendered on Ada" in body
    assert '<dd class="email-preview-subject">Welcome, Ada</dd>' in body
    assert "Initech &lt;b&gt;is in&lt;/b&gt;." in body  # the text, escaped
    frame = f'data-preview-frame="/p/funnels/edit/{funnel.id}/stages/{stage.id}/email-preview/html"'
    assert frame in body and 'sandbox=""' in body  # the HTML version loads in a sandboxed frame
    assert _activities() == []


def test_the_preview_without_a_lead_uses_a_made_up_one_and_shows_unknown_variables(client, world):
    _, funnel, stage, _ = world
    url = f"/p/funnels/edit/{funnel.id}/stages/{stage.id}/email-preview"

    response = _post(client, url, _email_form(subject="Hi {{ lead.first_name }} {{ lead.nme }}"))

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" in body  # without JavaScript: a page of its own
    assert "Rendered on a made-up lead (Ada Lovelace)." in body
    assert "Unknown variable `lead.nme`: did you mean `lead.name`?" in body


def test_send_me_a_test_arrives_at_the_smtp_server(app, client, world):
    _, funnel, stage, lead = world
    url = f"/p/funnels/edit/{funnel.id}/stages/{stage.id}/email-test"
    form = _email_form(subject="Welcome, {{ lead.first_name }}", body="Hello from {{ funnel }}.")

    response = _post(client, url, {**form, "preview_journey": lead.journeys[0].id}, headers=HTMX)
    with smtp_server() as (mailbox, port):
        app.config["MAIL_URL"] = f"smtp://127.0.0.1:{port}"
        try:
            worker.run_once()
        finally:
            app.config["MAIL_URL"] = None
        [email] = mailbox.wait_for(1)

    assert response.status_code == 200
    assert "A test was queued to maria@acme.example" in response.get_data(as_text=True)
    assert email["To"] == "maria@acme.example"
    assert email["Subject"] == "[Test] Welcome, Ada"
    assert "Hello from Onboarding." in email.get_body(("plain",)).get_content()
    assert _activities() == []
    # It names the lead it shows: erasing the lead erases it too.
    sent = db.session.scalar(db.select(OutboxMessage).filter_by(target="maria@acme.example"))
    assert sent.lead_id == lead.id


def test_send_me_a_test_is_refused_while_a_variable_is_unknown(client, world):
    _, funnel, stage, _ = world
    url = f"/p/funnels/edit/{funnel.id}/stages/{stage.id}/email-test"

    response = _post(client, url, _email_form(subject="Hi {{ lead.frist_name }}"), headers=HTMX)

    assert response.status_code == 422
    assert "did you mean `lead.first_name`?" in response.get_data(as_text=True)
    assert "A test was queued" not in response.get_data(as_text=True)


def test_a_preview_of_another_kind_or_without_the_csrf_token_is_refused(client, world):
    _, funnel, stage, _ = world
    url = f"/p/funnels/edit/{funnel.id}/stages/{stage.id}/email-preview"

    other_kind = _post(client, url, {**_email_form(), "preview_kind": "webhook"})
    no_token = client.post(url, data=_email_form())

    assert other_kind.status_code == no_token.status_code == 400


@pytest.mark.parametrize(
    ("body", "links"),
    [
        ("Hello {{ lead.first_name }}.", 1),
        ("Hello, your page: {{ journey_url }}", 1),
    ],
)
def test_the_journey_link_is_given_once(app, world, body, links):
    _, _, stage, _ = world
    factories.activity(stage, ActivityKind.EMAIL_LEAD, "Hello", body=body)
    origin = factories.origin(stage.funnel, OriginKind.API)
    register(origin, LeadInput(email="bo@example.com"), RegistrationContext())

    with smtp_server() as (mailbox, port):
        app.config["MAIL_URL"] = f"smtp://127.0.0.1:{port}"
        try:
            worker.run_once()
            worker.run_once()
        finally:
            app.config["MAIL_URL"] = None
        [email] = [m for m in mailbox.wait_for(1) if m["To"] == "bo@example.com"]

    text = email.get_body(("plain",)).get_content()
    html = email.get_body(("html",)).get_content()
    journey_url = text.split("http://localhost/j/")[1].split()[0]
    assert text.count(f"http://localhost/j/{journey_url}") == links
    assert ("Open your page" in html) == ("journey_url" not in body)


def test_the_html_version_is_a_frame_page_that_allows_inline_styles_and_runs_nothing(client, world):
    _, funnel, stage, lead = world
    url = f"/p/funnels/edit/{funnel.id}/stages/{stage.id}/email-preview/html"
    form = _email_form(body="<script>alert(1)</script> for {{ lead.first_name }}")

    response = _post(client, url, {**form, "preview_journey": lead.journeys[0].id})
    page = _post(
        client, f"/p/funnels/edit/{funnel.id}/stages/{stage.id}/email-preview", form
    ).get_data(as_text=True)

    body = response.get_data(as_text=True)
    policy = response.headers["Content-Security-Policy"]
    assert response.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt; for Ada" in body and "<script>" not in body
    assert "style-src 'unsafe-inline'" in policy and "sandbox" in policy
    assert "frame-ancestors 'self'" in policy and "X-Frame-Options" not in response.headers
    # Without JavaScript the preview page posts the same fields into the frame.
    assert f'action="{url}"' in page and 'name="activity-body" value="&lt;script&gt;' in page
