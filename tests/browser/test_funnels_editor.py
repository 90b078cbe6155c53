"""The funnel editor in Chromium: create a funnel, a stage, an activity and an API origin,
and copy its snippet with the real ref; everything in place with htmx, no console error."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from leadsite.extensions import db
from leadsite.models import Activity, Funnel, Origin, Stage
from tests import factories


def _sign_in(page: Page, live_server: str, email: str) -> None:
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server}/p/")


def test_build_a_funnel_with_a_stage_an_activity_and_an_api_origin(page: Page, live_server: str):
    ws = factories.workspace("Acme")
    person = factories.user(ws)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("dialog", lambda dialog: dialog.accept())
    _sign_in(page, live_server, person.email)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Funnels").click()
    page.get_by_role("link", name="New funnel").click()
    page.get_by_label("Name").fill("Webinar")
    page.get_by_label("Status").select_option("active")
    page.get_by_role("button", name="Create funnel").click()
    expect(page.get_by_role("heading", name="Webinar", level=1)).to_be_visible()
    expect(page.locator("#flash")).to_contain_text("Funnel “Webinar” created.")
    db.session.rollback()  # the server wrote from its own thread
    funnel = db.session.scalar(db.select(Funnel).filter_by(workspace_id=ws.id))
    assert page.url == f"{live_server}/p/funnels/edit/{funnel.id}"
    page.evaluate("window.stillHere = true")

    page.get_by_label("New stage").fill("Welcome")
    page.get_by_role("button", name="Add stage").click()
    expect(page.locator("#flash")).to_contain_text("Stage “Welcome” added.")
    stage_card = page.locator(".stage", has_text="Welcome")
    stage_card.get_by_label("Add an activity").select_option("set_status")
    stage_card.get_by_role("button", name="Add an activity to Welcome").click()
    form = page.locator(".activity-form")
    form.get_by_label("Title").fill("Mark as interested")
    form.get_by_role("button", name="Add activity").click()
    expect(form.locator("#activity-status-error")).to_contain_text("This field is required")
    form.get_by_label("New status").select_option("qualified")
    form.get_by_role("button", name="Add activity").click()
    expect(stage_card.locator(".activity")).to_contain_text("Status → qualified")

    page.get_by_label("New origin").select_option("api")
    page.locator("#new-origin-name").fill("Website backend")
    page.get_by_role("button", name="Add origin").click()
    origin_card = page.locator(".origin", has_text="Website backend")
    expect(origin_card).to_be_visible()

    db.session.rollback()
    db.session.expire_all()
    stage = db.session.scalar(db.select(Stage).filter_by(funnel_id=funnel.id))
    activity = db.session.scalar(db.select(Activity).filter_by(stage_id=stage.id))
    origin = db.session.scalar(db.select(Origin).filter_by(funnel_id=funnel.id))
    assert (stage.name, stage.position) == ("Welcome", 0)
    assert (activity.kind, activity.config) == ("set_status", {"status": "qualified"})
    assert (origin.kind, origin.name) == ("api", "Website backend")
    curl = origin_card.locator(f"#snippet-{origin.id}-curl")
    expect(curl).to_contain_text(f'curl -X POST "{live_server}/api/v1/leads?ref={origin.ref}"')
    expect(origin_card.locator(f"#snippet-{origin.id}-fetch")).to_contain_text(
        f"fetch('{live_server}/api/v1/leads?ref={origin.ref}'"
    )
    expect(origin_card.get_by_role("button", name="Copy curl")).to_be_visible()  # JS is on
    assert page.evaluate("window.stillHere") is True  # every step swapped in place
    # The form sent without a status answered 422, as it should; nothing else went wrong.
    assert [e for e in errors if "status of 422" not in e] == [], errors
