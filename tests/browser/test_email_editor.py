"""The email activity editor in Chromium: the variable picker inserts at the cursor, the preview
renders on a lead of the funnel, an unknown variable is refused at save on its field."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from leadsite.extensions import db
from leadsite.models import Activity, OriginKind
from leadsite.registration import LeadInput, RegistrationContext, register
from tests import factories


def test_pick_a_variable_preview_it_and_save(page: Page, live_server: str):
    ws = factories.workspace("Acme")
    person = factories.user(ws)
    factories.data_point(ws, "company")
    funnel = factories.funnel(ws, name="Onboarding")
    stage = factories.stage(funnel, "Welcome")
    register(
        factories.origin(funnel, OriginKind.API),
        LeadInput(email="ada@example.com", first_name="Ada"),
        RegistrationContext(),
    )
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server}/p/funnels/edit/{funnel.id}")

    stage_card = page.locator(".stage", has_text="Welcome")
    stage_card.get_by_label("Add an activity").select_option("email_lead")
    stage_card.get_by_role("button", name="Add an activity to Welcome").click()
    form = page.locator(".activity-form")
    form.get_by_label("Subject").fill("Welcome, {{ lead.first_nme }}")
    body = form.get_by_label("Body")
    body.fill("Hello !")
    body.focus()
    body.evaluate("field => field.setSelectionRange(6, 6)")  # the cursor before "!"
    form.get_by_text("Insert a variable").click()
    form.get_by_role("button", name="lead.first_name").press("Enter")  # keyboard works too
    expect(body).to_have_value("Hello {{ lead.first_name }}!")

    form.get_by_role("button", name="Preview").click()
    preview = form.locator(".email-preview")
    expect(preview).to_contain_text("Rendered on Ada")
    expect(preview).to_contain_text("Unknown variable `lead.first_nme`")
    expect(preview.locator("pre")).to_contain_text("Hello Ada!")
    html = preview.frame_locator("iframe.email-preview-html")
    expect(html.get_by_text("Hello Ada!")).to_be_visible()

    form.get_by_role("button", name="Add activity").click()
    expect(form.locator("#activity-subject-error")).to_contain_text(
        "did you mean `lead.first_name`?"
    )
    form.get_by_label("Subject").fill("Welcome, {{ lead.first_name }}")
    form.get_by_role("button", name="Add activity").click()
    expect(stage_card.locator(".activity")).to_contain_text("Subject: Welcome")

    db.session.rollback()  # the server wrote from its own thread
    activity = db.session.scalar(db.select(Activity).filter_by(stage_id=stage.id))
    assert activity.config["body"] == "Hello {{ lead.first_name }}!"
    assert [e for e in errors if "status of 422" not in e] == [], errors
