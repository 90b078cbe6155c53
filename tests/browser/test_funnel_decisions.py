"""A stage's decisions in Chromium: add a branch with a rule and a target, an otherwise, save;
the stage list says where journeys go, all in place with htmx."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from leadsite.extensions import db
from leadsite.models import Stage
from tests import factories
from tests.browser.test_funnels_editor import _sign_in


def test_build_a_branch_to_sales_review_else_self_serve(page: Page, live_server: str):
    ws = factories.workspace("Acme")
    person = factories.user(ws)
    factories.data_point(ws, "team_size", type="number")
    funnel = factories.funnel(ws, name="Trial")
    qualify, sales, self_serve = (
        factories.stage(funnel, name) for name in ("Qualify", "Sales review", "Self-serve")
    )
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    _sign_in(page, live_server, person.email)
    page.goto(f"{live_server}/p/funnels/edit/{funnel.id}")
    page.evaluate("window.stillHere = true")

    card = page.locator(f"#stage-{qualify.id}")
    card.get_by_role("link", name="Decisions after Qualify").click()
    form = page.locator(f"#decisions-form-{qualify.id}")
    form.get_by_role("button", name="Add a branch").click()
    branch = form.locator(".branch").first
    branch.get_by_label("Name").fill("Large company")
    branch.get_by_label("Go to").select_option(label="“Sales review”")
    branch.get_by_label("Field").select_option("data.team_size")
    branch.get_by_label("Operator").select_option("gt")
    branch.get_by_label("Value").fill("many")
    form.get_by_label("Otherwise").select_option(label="“Self-serve”")
    form.get_by_role("button", name="Save decisions").click()
    expect(branch.locator(".rule-error")).to_contain_text("needs a number")
    branch.get_by_label("Value").first.fill("10")
    form.get_by_role("button", name="Save decisions").click()

    expect(page.locator("#flash")).to_contain_text("Decisions of “Qualify” saved.")
    expect(card.locator(".decision-lines")).to_contain_text(
        "1. If Team size is greater than 10 → “Sales review” (Large company)"
    )
    expect(card.locator(".decision-lines")).to_contain_text("Otherwise → “Self-serve”")
    db.session.rollback()  # the server wrote from its own thread
    saved = db.session.scalars(db.select(Stage).filter_by(id=qualify.id)).one()
    assert saved.decisions == [
        {
            "condition": {
                "match": "all",
                "rules": [{"field": "data.team_size", "op": "gt", "value": 10}],
            },
            "to": sales.id,
            "label": "Large company",
        }
    ]
    assert saved.otherwise == self_serve.id
    assert page.evaluate("window.stillHere") is True
    assert [e for e in errors if "status of 422" not in e] == [], errors
