"""The stakeholder's page /s/<token>: only their step, their answer once, then nothing more."""

from __future__ import annotations

import io
import threading
from datetime import timedelta

import pytest
import requests

from leadsite.extensions import db
from leadsite.models import (
    JourneyData,
    JourneyFile,
    StakeholderLink,
    StepStatus,
    utcnow,
)
from tests import factories
from tests.journeys.stakeholder_world import (
    TASK,
    emailed_token,
    registered,
    stakeholder_funnel,
    task,
)

ACCOUNTANT = "books@ledger.example"


def _link() -> StakeholderLink:
    db.session.expire_all()
    return db.session.scalar(db.select(StakeholderLink).order_by(StakeholderLink.created_at))


def _post(client, token: str, step_id: str, **data):
    return client.post(
        f"/s/{token}",
        data={"step": step_id, **data},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
        headers={"User-Agent": "Thunderbird/1"},
    )


@pytest.fixture
def approval():
    """A journey whose Review stage asks the accountant to approve, showing the company."""
    ws = factories.workspace("Acme")
    funnel = stakeholder_funnel(
        ws,
        email_data_point="accountant_email",
        instructions="Check the yearly figures.",
        show_data_points=["company", "revenue"],
        decision_data_point="approval",
    )
    journey = registered(funnel, accountant_email=ACCOUNTANT, company="Engines Ltd", revenue=1200)
    return journey, emailed_token(ACCOUNTANT)


def test_the_page_shows_only_the_step_and_the_data_it_exposes(client, approval):
    _, token = approval

    response = client.get(f"/s/{token}")

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"<h1>{TASK}</h1>" in body and "About Ada Lovelace" in body
    assert "Check the yearly figures." in body
    assert "<dt>Company</dt><dd>Engines Ltd</dd>" in body
    assert "<dt>Revenue</dt><dd>1200</dd>" in body
    # Not the lead's email, not the stakeholder's own address data point, not other steps.
    assert "ada@example.com" not in body and ACCOUNTANT not in body
    assert "Call" not in body and "Welcome" not in body
    assert 'value="approve"' in body and 'value="reject"' in body
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert _link().opened_at is not None


def test_approving_spends_the_link_and_completes_the_step(client, approval):
    journey, token = approval
    step_id = task(journey).id

    response = _post(client, token, step_id, decision="approve", comment="All good")

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/s/{token}?answered=1")
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You approved it. Your answer was recorded." in thanks
    step = task(journey)
    assert step.status == StepStatus.DONE
    assert step.result["decision"] == "approved" and step.result["comment"] == "All good"
    link = _link()
    assert (link.decision, link.ip, link.user_agent) == (
        "approved",
        "198.51.100.7",
        "Thunderbird/1",
    )

    again = client.get(f"/s/{token}")
    assert again.status_code == 410
    assert "Already answered" in again.get_data(as_text=True)
    replay = _post(client, token, step_id, decision="reject", comment="No")
    assert replay.status_code == 410
    assert _link().decision == "approved"


def test_rejecting_without_a_comment_is_refused_on_the_comment(client, approval):
    journey, token = approval

    response = _post(client, token, task(journey).id, decision="reject", comment=" ")

    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Say why you reject it: the comment is required." in body
    assert 'id="f-comment" name="comment" rows="4" maxlength="2000" aria-invalid="true"' in body
    assert task(journey).status == StepStatus.DUE and _link().decided_at is None


def test_rejecting_with_a_comment_records_the_rejection(client, approval):
    journey, token = approval

    response = _post(client, token, task(journey).id, decision="reject", comment="Wrong VAT")

    assert response.status_code == 303
    assert task(journey).result["decision"] == "rejected"
    stored = {
        item.data_point.name: item.value for item in db.session.scalars(db.select(JourneyData))
    }
    assert stored["approval"] == "rejected"


def test_filling_data_points_is_checked_as_the_lead_form_checks_it(client):
    ws = factories.workspace()
    funnel = stakeholder_funnel(
        ws, email=ACCOUNTANT, action="fill", data_points=["company", "revenue"]
    )
    journey = registered(funnel)
    token = emailed_token(ACCOUNTANT)
    page = client.get(f"/s/{token}").get_data(as_text=True)
    assert 'id="f-data-company"' in page and 'id="f-data-revenue"' in page

    wrong = _post(client, token, task(journey).id, **{"data.company": "", "data.revenue": "lots"})

    body = wrong.get_data(as_text=True)
    assert wrong.status_code == 422
    assert "Enter company." in body and "Revenue must be a number" in body
    assert 'value="lots"' in body
    assert db.session.scalar(db.select(JourneyData)) is None

    right = _post(
        client, token, task(journey).id, **{"data.company": "Engines Ltd", "data.revenue": "99"}
    )

    assert right.status_code == 303
    stored = {
        item.data_point.name: item.value for item in db.session.scalars(db.select(JourneyData))
    }
    assert stored == {"company": "Engines Ltd", "revenue": 99}
    assert task(journey).result["data"] == {"company": "Engines Ltd", "revenue": 99}
    assert _link().decision == "done"


def test_uploading_a_document_keeps_it_on_the_step(client):
    ws = factories.workspace()
    funnel = stakeholder_funnel(ws, email=ACCOUNTANT, action="upload", accept=["pdf"])
    journey = registered(funnel)
    token = emailed_token(ACCOUNTANT)
    assert 'enctype="multipart/form-data"' in client.get(f"/s/{token}").get_data(as_text=True)

    refused = _post(client, token, task(journey).id, document=(io.BytesIO(b"MZ..."), "tool.exe"))
    assert refused.status_code == 422
    assert "This type of file is not accepted here. Upload one of: .pdf." in refused.get_data(
        as_text=True
    )
    assert db.session.scalar(db.select(JourneyFile)) is None

    response = _post(
        client, token, task(journey).id, document=(io.BytesIO(b"%PDF-1.7 figures"), "accounts.pdf")
    )

    assert response.status_code == 303
    stored = db.session.scalar(db.select(JourneyFile))
    assert (stored.filename, stored.size, stored.uploaded_by, stored.uploader) == (
        "accounts.pdf",
        16,
        "stakeholder",
        ACCOUNTANT,
    )
    assert stored.step_id == task(journey).id and stored.ip == "198.51.100.7"
    assert task(journey).result["file_id"] == stored.id


def test_an_expired_link_says_so(client, approval):
    journey, token = approval
    link = _link()
    link.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()

    response = client.get(f"/s/{token}")
    posted = _post(client, token, task(journey).id, decision="approve")

    assert response.status_code == 410
    assert "This link has expired" in response.get_data(as_text=True)
    assert posted.status_code == 410 and task(journey).status == StepStatus.DUE


def test_another_journeys_step_in_the_form_is_refused(client, approval):
    journey, token = approval
    other = registered(journey.funnel, email="grace@example.com", accountant_email=ACCOUNTANT)

    response = _post(client, token, task(other).id, decision="approve")

    assert response.status_code == 400
    assert "This answer is for another request" in response.get_data(as_text=True)
    assert task(journey).status == StepStatus.DUE and task(other).status == StepStatus.DUE
    assert (
        db.session.scalar(db.select(StakeholderLink.decided_at).filter_by(step_id=task(other).id))
        is None
    )


@pytest.mark.parametrize("token", ["nope", "x" * 43, "a" * 300])
def test_an_unknown_token_is_a_404(client, approval, token):
    response = client.get(f"/s/{token}")

    assert response.status_code == 404
    assert "This link does not work" in response.get_data(as_text=True)


def test_a_step_staff_skipped_needs_nothing_any_more(client, approval):
    journey, token = approval
    step = task(journey)
    step.status = StepStatus.SKIPPED
    db.session.commit()

    response = client.get(f"/s/{token}")

    assert response.status_code == 410
    assert "Nothing is needed any more" in response.get_data(as_text=True)


def test_two_answers_sent_at_once_count_once(live_server, approval):
    journey, token = approval
    step_id = task(journey).id
    start = threading.Barrier(2)
    statuses: list[int] = []

    def send(decision: str) -> None:
        start.wait()
        data = {"step": step_id, "decision": decision, "comment": decision}
        response = requests.post(
            f"{live_server}/s/{token}", data=data, allow_redirects=False, timeout=20
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=send, args=(d,)) for d in ("approve", "reject")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(statuses) == [303, 410]
    db.session.rollback()  # a fresh snapshot: the answers were written by the server's threads
    link = _link()
    assert task(journey).result["decision"] == link.decision
    assert link.comment == {"approved": "approve", "rejected": "reject"}[link.decision]
