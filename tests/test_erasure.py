"""Erasure erases: after a lead is erased, no column of any row of any table (every table the
models declare, so a table added later is covered too) (CSV imports included) holds its data."""

from __future__ import annotations

import io
import json
import re
from typing import Any

from werkzeug.datastructures import FileStorage

from leadsite import funnels
from leadsite.extensions import db
from leadsite.journeys.uploads import store_upload
from leadsite.leads.imports.job import claim_one, run_import
from leadsite.leads.imports.upload import save_upload, set_mapping
from leadsite.models import (
    ActivityKind,
    DataPointType,
    DeliveryAttempt,
    IdempotencyRecord,
    Journey,
    JourneyFile,
    Lead,
    MessageStatus,
    OriginKind,
    OutboxMessage,
    Signature,
    StakeholderLink,
)
from leadsite.outbox import worker
from leadsite.public.tokens import form_token
from tests import factories
from tests.servers import free_port, webhook_receiver

EMAIL = "quillon.zephyrine@erasure-probe.example"
PHONE = "+44 20 7946 0958"
CUSTOM = "marmalade-otter-42"
DATA = "wombat-harbour-77"
UNIQUE_ID = "member-xq-9912"
# What must not survive, as it may be written anywhere (lower-cased; the phone's digits, in
# E.164 or not).
PROBES = (
    EMAIL,
    "quillon",
    "zephyrine",
    "2079460958",
    "7946 0958",
    CUSTOM,
    DATA,
    UNIQUE_ID,
    "glimmer lane",
)


def _text(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str).lower()
    return str(value).lower()


def copies_in_database() -> dict[str, set[str]]:
    """Every table of the models, every row, every column: which probes each table holds."""
    found: dict[str, set[str]] = {}
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            for row in connection.execute(table.select()):
                for column, value in row._mapping.items():
                    if value is None:
                        continue
                    text = _text(value)
                    for probe in PROBES:
                        if probe in text:
                            found.setdefault(table.name, set()).add(f"{column}: {probe}")
    return found


def _funnel_copying_everywhere(ws, hook_url: str):
    """A double opt-in funnel whose first stage emails the lead, notifies staff, calls a
    webhook, and texts staff of each new lead."""
    factories.data_point(ws, "favourite", type=DataPointType.TEXT)
    funnel = factories.funnel(
        ws,
        double_opt_in=True,
        notify_emails=["sales@acme.example"],
        settings={"sms_staff": ["+15555550100"]},
    )
    stage = funnels.add_stage(funnel, "Welcome")
    funnels.add_activity(
        stage,
        ActivityKind.EMAIL_LEAD,
        "Welcome email",
        subject="Welcome, {{ lead.first_name }} {{ lead.last_name }}",
        body="Your favourite: {{ data.favourite }}",
    )
    funnels.add_activity(stage, ActivityKind.NOTIFY_STAFF, "Tell sales")
    funnels.add_activity(stage, ActivityKind.WEBHOOK, "Call the CRM", url=hook_url)
    funnels.add_activity(stage, ActivityKind.STAFF_TASK, "Call them")
    db.session.commit()
    return funnel


def _confirm(client) -> None:
    """Press the button of the confirmation link emailed to the lead."""
    emails = db.session.scalars(db.select(OutboxMessage).filter_by(target=EMAIL))
    [text] = [m.payload["text"] for m in emails if "Confirm" in m.payload["subject"]]
    link = re.search(r"http://localhost(/confirm/\S+)", text)[1]
    assert client.post(link).status_code == 200


def _import(ws, user, origin, run: bool) -> None:
    """A CSV import naming the lead (its phone written nationally) beside someone else; run to
    the end (a refused row naming the lead stays for the report) or not started (its rows
    stay)."""
    text = (
        "Email,First name,Last name,Phone\n"
        f"{EMAIL.upper()},Quillon,Zephyrine,020 7946 0958\n"
        "other@example.com,Other,Person,\n"
        f"{EMAIL},Quillon,Zephyrine,12\n"
    )
    job = save_upload(ws.id, user.id, "people.csv", text.encode())
    if run:
        set_mapping(job, ["email", "first_name", "last_name", "phone"], origin.funnel_id)
        run_import(job.id, claim_one(job.id), seconds=None)


def _evidence(lead_id: str) -> None:
    """A document the lead uploaded and a signature it gave, as the journey page keeps them."""
    journey = db.session.scalar(db.select(Journey).filter_by(lead_id=lead_id))
    content = f"%PDF-1.4 ID of Quillon Zephyrine, {DATA}".encode()
    upload = FileStorage(io.BytesIO(content), "quillon.pdf")
    store_upload(
        upload, journey=journey, step=None, config={}, uploaded_by="lead", ip="203.0.113.5"
    )
    db.session.add(
        Signature(
            workspace_id=journey.workspace_id,
            lead_id=lead_id,
            journey_id=journey.id,
            name="Quillon Zephyrine",
            text_sha256="0" * 64,
            consent="I agree.",
            ip="203.0.113.5",
        )
    )
    db.session.commit()


def test_erasing_a_lead_leaves_its_data_in_no_table(client):
    ws = factories.workspace()
    user = factories.user(ws)
    key = factories.api_key(ws)
    with webhook_receiver() as receiver:
        funnel = _funnel_copying_everywhere(ws, receiver.url)
        api = factories.origin(funnel, OriginKind.API)
        page = factories.origin(funnel, OriginKind.PAGE)
        imports = factories.origin(funnel, OriginKind.IMPORT)
        factories.webhook_endpoint(ws, url=receiver.url)  # delivered
        # Refused connections: its messages stay pending, with a failed attempt each.
        factories.webhook_endpoint(ws, url=f"http://127.0.0.1:{free_port()}/down")
        body = {
            "Email": EMAIL,
            "Firstname": "Quillon",
            "Lastname": "Zephyrine",
            "PhoneNumber": PHONE,
            "UniqueId": UNIQUE_ID,
            "Address": "12 Glimmer Lane",
            "favourite_otter": CUSTOM,
            "JourneyData": [{"Name": "favourite", "Value": DATA}],
            "WebhookInput": {"Url": receiver.url + "/own"},
        }
        created = client.post(
            f"/api/v1/leads?ref={api.ref}",
            json=body,
            headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "erase-probe-1"},
        )
        assert created.status_code == 201, created.get_json()
        lead_id = created.get_json()["data"]["id"]
        # The same person through the hosted page, too fast: a held copy.
        client.post(
            f"/r/{page.ref}",
            data={"_token": form_token(page.ref), "email": EMAIL, "first_name": "Quillon"},
        )
        _import(ws, user, imports, run=True)
        _import(ws, user, imports, run=False)
        _confirm(client)  # double opt-in: the journey starts when the lead confirms
        _evidence(lead_id)
        for _ in range(3):  # the steps queue emails and the webhook; then all is delivered
            worker.run_once()
        receiver.wait_for(3)

    before = copies_in_database()
    # Every kind of copy was made, so the check below can fail.
    assert {
        "leads",
        "events",
        "outbox_messages",
        "delivery_attempts",
        "journey_data",
        "journey_steps",
        "idempotency_records",
        "journey_files",
        "signatures",
        "lead_import_chunks",
        "lead_import_rejections",
    } <= set(before), before
    statuses = set(db.session.scalars(db.select(OutboxMessage.status)))
    assert {MessageStatus.DELIVERED, MessageStatus.PENDING} <= statuses
    assert db.session.scalar(db.select(db.func.count(Lead.id)).filter_by(held=True)) == 1

    erased = client.delete(f"/api/v1/leads/{lead_id}", headers={"Authorization": f"Bearer {key}"})
    replayed = client.post(
        f"/api/v1/leads?ref={api.ref}",
        json=body,
        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "erase-probe-1"},
    )

    assert erased.status_code == 200 and erased.get_json()["data"]["erased"] is True
    assert copies_in_database() == {}
    assert db.session.scalar(db.select(db.func.count(JourneyFile.id))) == 0
    assert db.session.scalar(db.select(db.func.count(Signature.id))) == 0
    # The anonymous records stay: the lead's row, its delivered messages and their attempts.
    assert db.session.get(Lead, lead_id).erased_at is not None
    assert db.session.scalar(db.select(db.func.count(DeliveryAttempt.id))) > 0
    # What was sent stays sent: there is nothing left to send again.
    sent = db.session.scalar(db.select(OutboxMessage.id).filter_by(lead_id=lead_id))
    again = client.post(
        f"/api/v1/messages/{sent}/redeliver", headers={"Authorization": f"Bearer {key}"}
    )
    assert again.status_code == 409 and again.get_json()["code"] == "ERASED"
    # A replay of the registering call answers that the lead was erased, and registers no one.
    assert replayed.get_json()["data"]["erased"] is True
    assert db.session.scalar(db.select(db.func.count(IdempotencyRecord.id))) == 1
    assert copies_in_database() == {}


def test_erasing_a_lead_removes_its_stakeholders_links_answers_and_addresses(client):
    from tests.journeys.stakeholder_world import emailed_token

    ws = factories.workspace()
    key = factories.api_key(ws)
    factories.data_point(ws, "accountant_email", type=DataPointType.EMAIL)
    funnel = factories.funnel(ws)
    review = funnels.add_stage(funnel, "Review")
    funnels.add_activity(
        review,
        ActivityKind.STAKEHOLDER_TASK,
        "Approve",
        email_data_point="accountant_email",
        instructions="Check the figures.",
    )
    db.session.commit()
    api = factories.origin(funnel, OriginKind.API)
    # The stakeholder's address names the lead: it is personal data of the lead's too.
    accountant = "zephyrine.books@ledger.example"
    body = {
        "Email": EMAIL,
        "Firstname": "Quillon",
        "JourneyData": [{"Name": "accountant_email", "Value": accountant}],
    }
    created = client.post(
        f"/api/v1/leads?ref={api.ref}", json=body, headers={"Authorization": f"Bearer {key}"}
    )
    lead_id = created.get_json()["data"]["id"]
    token = emailed_token(accountant)
    worker.run_once()  # the email is delivered (to the dev mailbox)
    step_id = db.session.scalar(db.select(StakeholderLink.step_id))
    client.post(
        f"/s/{token}",
        data={"step": step_id, "decision": "reject", "comment": f"Quillon's {DATA} is wrong"},
    )
    before = copies_in_database()
    assert {"stakeholder_links", "outbox_messages", "journey_steps"} <= set(before), before

    erased = client.delete(f"/api/v1/leads/{lead_id}", headers={"Authorization": f"Bearer {key}"})

    assert erased.status_code == 200
    assert copies_in_database() == {}
    assert db.session.scalar(db.select(StakeholderLink)) is None
    assert client.get(f"/s/{token}").status_code == 404
