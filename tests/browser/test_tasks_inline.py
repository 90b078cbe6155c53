"""My tasks in Chromium: a task done inline (the row goes, the counts follow, the journey moves
on), one assigned to me and done, leaving "Nothing to do here", without a reload."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from leadsite.extensions import db
from leadsite.models import ActivityKind, Journey, JourneyStatus, JourneyStep, StepStatus
from tests import factories


def _sign_in(page: Page, live_server: str, email: str) -> None:
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server}/p/")


def test_a_task_is_done_and_another_assigned_inline(page: Page, live_server: str):
    ws = factories.workspace()
    person = factories.user(ws)
    funnel = factories.funnel(ws, name="Sales")
    factories.activity(factories.stage(funnel, "Qualify"), ActivityKind.STAFF_TASK, "Call them")
    origin = factories.origin(funnel)
    ada = factories.registered(origin, email="ada@example.com", first_name="Ada")
    factories.registered(origin, email="bob@example.com", first_name="Bob")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    _sign_in(page, live_server, person.email)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="My tasks").click()
    page.evaluate("window.marker = 'same page'")
    rows = page.locator("#task-rows tr")
    expect(rows).to_have_count(2)
    expect(page.locator('[data-count="todo"]')).to_have_text("2")
    ada_row = rows.filter(has_text="ada@example.com")
    ada_row.get_by_role("button", name="Done Call them").click()

    expect(page.locator("#flash")).to_contain_text("“Call them” marked done.")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("bob@example.com")
    expect(page.locator('[data-count="todo"]')).to_have_text("1")

    rows.first.get_by_role("button", name="Assign to me").click()
    expect(page.locator('[data-count="mine"]')).to_have_text("1")
    expect(rows.first.get_by_label("Assigned to")).to_have_value(person.id)
    rows.first.get_by_role("button", name="Done Call them").click()
    # The last row gone: the list says so, as a reload would, instead of a bare header.
    expect(page.get_by_text("Nothing to do here.")).to_be_visible()
    expect(page.locator("#task-list table")).to_have_count(0)
    expect(page.locator('[data-count="todo"]')).to_have_text("0")
    assert page.evaluate("window.marker") == "same page"
    db.session.rollback()
    db.session.expire_all()
    journey = db.session.scalar(db.select(Journey).filter_by(lead_id=ada.id))
    assert journey.status == JourneyStatus.COMPLETED
    assert (
        db.session.scalar(db.select(JourneyStep.status).filter_by(journey_id=journey.id))
        == StepStatus.DONE
    )
    assert errors == []
