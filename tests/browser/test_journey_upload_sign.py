"""The lead uploads documents and signs on their journey page, in Chromium at a phone's width."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Page, expect

from leadsite.extensions import db
from leadsite.models import JourneyFile, Signature, StepStatus
from tests.public.lead_steps import TERMS, lead_journey, step


def _shot(page: Page, tmp_path: Path, name: str) -> None:
    folder = Path(os.environ.get("SHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_the_lead_uploads_two_documents_and_signs(page: Page, live_server: str, tmp_path: Path):
    journey = lead_journey()
    front, back, bad = tmp_path / "front.pdf", tmp_path / "back.png", tmp_path / "notes.txt"
    front.write_bytes(b"%PDF-1.4 front")
    back.write_bytes(b"\x89PNG back")
    bad.write_text("not accepted")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server}/j/{journey.access_token}")
    _shot(page, tmp_path, "journey-390")

    documents = page.get_by_label("Your documents")
    documents.set_input_files([bad])
    page.get_by_role("button", name="Upload").click()
    expect(page.locator(".field.invalid .error")).to_contain_text(
        "This type of file is not accepted here. Upload one of: .pdf, .png."
    )
    _shot(page, tmp_path, "upload-refused-390")
    page.get_by_label("Your documents").set_input_files([front, back])
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("status")).to_have_text("Thank you: that is done.")
    expect(page.get_by_role("list", name="Uploaded for Your ID")).to_contain_text("back.png")

    expect(page.get_by_role("region", name="Text to sign")).to_contain_text("Line two")
    page.get_by_label("Your full name").fill("Ada Lovelace")
    page.get_by_role("button", name="Sign").click()
    expect(page.get_by_text("Tick the box to agree, or you cannot sign.")).to_be_visible()
    expect(page.get_by_label("Your full name")).to_have_value("Ada Lovelace")
    _shot(page, tmp_path, "sign-refused-390")
    page.get_by_label("I agree.").check()
    page.get_by_role("button", name="Sign").click()

    expect(page.get_by_role("status")).to_have_text("Thank you: that is done.")
    expect(page.locator(".stage-current")).to_contain_text("Meet")
    _shot(page, tmp_path, "signed-390")
    db.session.rollback()
    db.session.expire_all()
    names = sorted(f.filename for f in db.session.scalars(db.select(JourneyFile)))
    assert names == ["back.png", "front.pdf"]
    signature = db.session.scalar(db.select(Signature))
    assert signature.name == "Ada Lovelace" and signature.ip == "127.0.0.1"
    assert "Chrome" in (signature.user_agent or "")
    assert step(journey, "The contract").result["text"] == TERMS
    assert step(journey, "Your ID").status == StepStatus.DONE
