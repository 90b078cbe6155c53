"""Issue 14's end-to-end funnel, built in the back-office in Chromium as a person would: data
points, stages with a lead task, a staff task, a stakeholder approval, an upload and a signature,
the decisions that branch between them, and a hosted page. Screenshots (`shot`) are written only
when SHOTS_DIR names a folder."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

TERMS = "I agree to pay the yearly fee within 30 days of the invoice."


def shot(page: Page, name: str) -> None:
    folder = os.environ.get("SHOTS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        # caret="initial": hiding the caret takes an inline style, which the pages' CSP refuses.
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True, caret="initial")


def shots(page: Page, name: str) -> None:
    """`shot` on a phone (390 px) and a wide screen (1280 px), then the page's own size again."""
    if not os.environ.get("SHOTS_DIR"):
        return
    size = page.viewport_size
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": size["height"]})
        shot(page, f"{name}-{width}")
    page.set_viewport_size(size)


def stage_card(page: Page, name: str) -> Locator:
    heading = page.get_by_role("heading", name=name, exact=True, level=3)
    return page.locator(".stage").filter(has=heading)


def add_activity(page: Page, stage: str, kind: str, title: str) -> Locator:
    """Open the new activity form of `kind` in `stage`, with its title typed."""
    card = stage_card(page, stage)
    card.get_by_label("Add an activity").select_option(kind)
    card.get_by_role("button", name=f"Add an activity to {stage}").click()
    form = card.locator(".activity-form")
    form.get_by_label("Title").fill(title)
    return form


def save_activity(page: Page, form: Locator, stage: str, title: str) -> None:
    form.get_by_role("button", name="Add activity").click()
    expect(stage_card(page, stage).locator(".activity", has_text=title)).to_be_visible()


def create_data_points(page: Page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Data points").click()
    form = page.locator("#data-point-form")
    for name, label, kind in (
        ("company_size", "Company size", "number"),
        ("accountant_email", "Accountant's email", "email"),
    ):
        form.get_by_label("Name").fill(name)
        form.get_by_label("Label").fill(label)
        form.get_by_label("Type").select_option(kind)
        form.get_by_role("button", name="Add data point").click()
        expect(page.locator("#data-points table")).to_contain_text(label)
    shot(page, "01-data-points-1280")


def build_funnel(page: Page, base: str, staff_name: str) -> str:
    """The funnel, built as a person would in the editor; returns its hosted page's address."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Funnels").click()
    page.get_by_role("link", name="New funnel").click()
    page.get_by_label("Name").fill("Onboarding")
    page.get_by_label("Status").select_option("active")
    page.get_by_role("button", name="Create funnel").click()
    expect(page.locator("#flash")).to_contain_text("Funnel “Onboarding” created.")
    for stage in ("Qualify", "Sales review", "Self-serve"):
        page.get_by_label("New stage").fill(stage)
        page.get_by_role("button", name="Add stage").click()
        expect(stage_card(page, stage)).to_be_visible()

    form = add_activity(page, "Qualify", "email_lead", "Welcome")
    save_activity(page, form, "Qualify", "Welcome")  # empty body: a greeting and their link
    form = add_activity(page, "Qualify", "lead_task", "About your company")
    form.get_by_label("Instructions for the lead").fill("Two questions, then we go on.")
    form.get_by_label("Company size").check()
    form.get_by_label("Accountant's email").check()
    save_activity(page, form, "Qualify", "About your company")

    form = add_activity(page, "Sales review", "staff_task", "Call the lead")
    form.get_by_label("Instructions").fill("Agree a plan for a large company.")
    form.get_by_label("Assigned to").select_option(label=staff_name)
    save_activity(page, form, "Sales review", "Call the lead")

    form = add_activity(page, "Self-serve", "stakeholder_task", "Approve the account")
    form.get_by_label("Or the data point holding it").select_option(label="Accountant's email")
    form.get_by_label("What they do").select_option("approve")
    form.get_by_label("Instructions", exact=True).fill("Check the company before we bill it.")
    form.locator("#activity-show_data_points").get_by_label("Company size").check()
    save_activity(page, form, "Self-serve", "Approve the account")
    form = add_activity(page, "Self-serve", "upload", "Your company registration")
    form.get_by_label("Instructions for the lead").fill("The certificate, as a PDF.")
    form.get_by_label("Accepted file types").fill("pdf")
    save_activity(page, form, "Self-serve", "Your company registration")
    form = add_activity(page, "Self-serve", "sign", "The agreement")
    form.get_by_label("Text to sign").fill(TERMS)
    save_activity(page, form, "Self-serve", "The agreement")

    qualify = stage_card(page, "Qualify")
    qualify.get_by_role("link", name="Decisions after Qualify").click()
    decisions = qualify.locator(".decisions-form")
    decisions.get_by_role("button", name="Add a branch").click()
    branch = decisions.locator(".branch").first
    branch.get_by_label("Name").fill("Large company")
    branch.get_by_label("Go to").select_option(label="“Sales review”")
    branch.get_by_label("Field").select_option("data.company_size")
    branch.get_by_label("Operator").select_option("gt")
    branch.get_by_label("Value").fill("10")
    decisions.get_by_label("Otherwise").select_option(label="“Self-serve”")
    shot(page, "02-decisions-form-1280")
    decisions.get_by_role("button", name="Save decisions").click()
    expect(qualify.locator(".decision-lines")).to_contain_text(
        "1. If Company size is greater than 10 → “Sales review” (Large company)"
    )
    sales = stage_card(page, "Sales review")
    sales.get_by_role("link", name="Decisions after Sales review").click()
    sales.locator(".decisions-form").get_by_label("Otherwise").select_option(label="End")
    sales.get_by_role("button", name="Save decisions").click()
    expect(sales.locator(".decision-lines")).to_contain_text("Otherwise → the end")

    page.get_by_label("New origin").select_option("page")
    page.locator("#new-origin-name").fill("Sign-up page")
    page.get_by_role("button", name="Add origin").click()
    address = page.locator(".origin", has_text="Sign-up page").locator("code[data-language=url]")
    expect(address).to_contain_text(f"{base}/r/")
    shot(page, "03-funnel-built-1280")
    return address.inner_text().strip()
