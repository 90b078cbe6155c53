"""`POST /api/v1/leads?ref=`: what each kind of body registers."""

from __future__ import annotations

from leadsite.extensions import db
from leadsite.models import (
    Event,
    Journey,
    JourneyStep,
    Lead,
    OutboxMessage,
    StepStatus,
    WebhookEndpoint,
)
from tests import factories
from tests.bodies import KOHOMAI_FULL


def _leads() -> list[Lead]:
    return list(db.session.scalars(db.select(Lead)))


def test_the_kohomai_minimal_body_registers_a_lead(api):
    response = api.register({"Email": "johndoe@gmail.com"})

    assert response.status_code == 201
    body = response.json
    assert body["success"] is True and body["created"] is True
    lead = db.session.get(Lead, body["data"]["id"])
    assert lead.email == "johndoe@gmail.com"
    assert lead.origin_id == api.origin.id
    assert body["data"]["id"].startswith("lead_")
    journey = body["data"]["journey"]
    assert journey["id"].startswith("jrn_")
    assert journey["status"] == "active"
    assert journey["url"].startswith("http://localhost/j/")


def test_the_kohomai_full_body_fills_lead_journey_and_data(api):
    factories.data_point(api.workspace, "My datapoint")

    response = api.register(KOHOMAI_FULL)

    assert response.status_code == 201
    data = response.json["data"]
    assert (data["first_name"], data["last_name"]) == ("John", "Doe")
    assert data["phone"] == "+18005550175"
    assert data["journey"]["redirect_url"] == "https://www.myapp.com"
    journey = db.session.get(Journey, data["journey"]["id"])
    assert {item.data_point.name: item.value for item in journey.data} == {
        "My datapoint": "example"
    }
    steps = db.session.scalars(
        db.select(JourneyStep).filter_by(journey_id=journey.id).order_by(JourneyStep.position)
    ).all()
    assert [(s.title, s.status) for s in steps] == [
        ("Welcome email", StepStatus.DUE),
        ("Fill in your profile", StepStatus.DUE),
        ("Call", StepStatus.PENDING),
    ]


def test_a_form_encoded_body_registers_a_lead(api):
    response = api.register(
        data={
            "email": "form@example.com",
            "first_name": "Form",
            "tags": ["a", "b"],
            "JourneyData": '[{"Name": "team_size", "Value": "12"}]',
        },
    )

    assert response.status_code == 201
    lead = db.session.get(Lead, response.json["data"]["id"])
    assert (lead.email, lead.first_name, lead.tags) == ("form@example.com", "Form", ["a", "b"])
    journey = lead.journeys[0]
    assert journey.data[0].value == 12


def test_keys_match_whatever_their_case_underscores_or_dashes(api):
    response = api.register(
        {
            "EMAIL": "Case@Example.com",
            "first-name": "Ana",
            "LastName": "Lima",
            "phone_number": "+33 6 12 34 56 78",
            "redirect_url": "https://example.com/next",
        }
    )

    data = response.json["data"]
    assert response.status_code == 201
    assert data["email"] == "case@example.com"
    assert (data["first_name"], data["last_name"]) == ("Ana", "Lima")
    assert data["phone"] == "+33612345678"
    assert data["journey"]["redirect_url"] == "https://example.com/next"


def test_unknown_keys_become_lower_cased_custom_fields_and_utm_is_captured(api):
    response = api.register(
        {
            "email": "c@example.com",
            "Company": "Example Co",
            "Plan_Size": 5,
            "utm_source": "newsletter",
            "__url": "https://shop.example.com/?utm_campaign=spring&utm_source=ignored",
            "__source": "modal.12",
            "_private": "dropped",
            "Metadata": {"interests": ["a"], "utm_medium": "email"},
        },
        headers={"User-Agent": "TestAgent/1.0", "Referer": "https://www.google.com/"},
    )

    lead = db.session.get(Lead, response.json["data"]["id"])
    assert lead.custom_fields == {"company": "Example Co", "plan_size": 5, "interests": ["a"]}
    assert (lead.utm_source, lead.utm_medium, lead.utm_campaign) == (
        "newsletter",
        "email",
        "spring",
    )
    assert lead.source == "modal.12"
    assert lead.source_url.startswith("https://shop.example.com/")
    assert lead.referrer == "https://www.google.com/"
    assert lead.user_agent == "TestAgent/1.0"
    assert lead.ip == "127.0.0.1"


def test_a_utm_object_is_read_with_or_without_the_prefix_and_nothing_in_it_is_dropped(api):
    # Found from outside: {"utm": {"source": "google"}} answered 201 with no UTM stored, and
    # a key of that object that is no UTM field vanished.
    response = api.register(
        {
            "email": "u@example.com",
            "utm": {"source": "google", "utm_medium": "cpc", "Campaign": "spring", "ad": "7"},
        }
    )

    assert response.status_code == 201
    lead = db.session.get(Lead, response.json["data"]["id"])
    assert (lead.utm_source, lead.utm_medium, lead.utm_campaign) == ("google", "cpc", "spring")
    assert lead.custom_fields == {"utm": {"ad": "7"}}


def test_the_chatbot_body_with_a_ref_registers_with_its_full_name_and_metadata(api):
    response = api.register(
        {
            "name": "John Ronald Doe",
            "email": "jd@example.com",
            "phone": "+1-555-123-4567",
            "source": "website",
            "status": "new",
            "metadata": {"utm_source": "google", "company": "Tech Corp"},
        }
    )

    assert response.status_code == 201  # 555 numbers are possible, so accepted
    data = response.json["data"]
    assert (data["first_name"], data["last_name"]) == ("John", "Ronald Doe")
    assert data["phone"] == "+15551234567"
    assert data["utm"]["utm_source"] == "google"
    assert data["custom_fields"] == {"company": "Tech Corp"}
    assert response.json["warnings"] == []


def test_registering_again_merges_into_the_same_lead(api):
    first = api.register(
        {
            "email": "m@example.com",
            "first_name": "Old",
            "tags": ["a"],
            "Company": "A",
            "utm_source": "first",
            "PhoneNumber": "",
        }
    )
    lead = db.session.get(Lead, first.json["data"]["id"])
    lead.opted_out_at = lead.created_at
    db.session.commit()

    second = api.register(
        {
            "email": "M@example.com",
            "first_name": "New",
            "tags": "b, a",
            "phone": "+442079460000",
            "Size": 3,
            "utm_source": "second",
        }
    )

    assert second.status_code == 200
    assert second.json["created"] is False
    assert second.json["data"]["id"] == first.json["data"]["id"]
    assert second.json["data"]["journey"]["id"] == first.json["data"]["journey"]["id"]
    db.session.refresh(lead)
    assert lead.counter == 2
    assert lead.first_name == "New"
    assert lead.phone == "+442079460000"  # a missing phone is filled
    assert lead.tags == ["a", "b"]
    assert lead.custom_fields == {"company": "A", "size": 3}
    assert lead.utm_source == "first"  # first touch is kept
    assert lead.opted_out_at is None
    assert db.session.scalar(db.select(db.func.count()).select_from(Journey)) == 1


def test_do_not_reset_opt_out_keeps_the_opt_out(api):
    first = api.register({"email": "o@example.com"})
    lead = db.session.get(Lead, first.json["data"]["id"])
    lead.opted_out_at = lead.created_at
    db.session.commit()

    api.register({"email": "o@example.com", "__do_not_reset_opt_out": True})

    db.session.refresh(lead)
    assert lead.opted_out_at is not None
    assert lead.counter == 2


def test_a_lead_is_matched_by_phone_when_the_funnel_identifies_by_phone(api):
    funnel = factories.funnel(api.workspace, identifier="phone")
    origin = factories.origin(funnel)
    existing = factories.lead(api.workspace, phone="+33612345678", email=None)

    response = api.register(
        {"phone": "06 12 34 56 78", "CountryCode": "FR", "email": "late@example.com"},
        ref=origin.ref,
    )

    assert response.status_code == 200
    db.session.refresh(existing)
    assert existing.email == "late@example.com"  # a missing email is filled


def test_must_exist_updates_an_existing_lead(api):
    factories.lead(api.workspace, email="known@example.com")

    response = api.register({"email": "known@example.com", "must_exist": "true"})

    assert response.status_code == 200


def test_webhook_input_is_stored_and_events_are_written_to_the_outbox(api):
    response = api.register(
        {
            "Email": "w@example.com",
            "WebhookInput": {
                "Url": "https://hooks.example.com/lead",
                "Events": ["lead.updated", "journey.created"],
            },
        }
    )

    lead_id = response.json["data"]["id"]
    endpoint = db.session.scalar(db.select(WebhookEndpoint).filter_by(lead_id=lead_id))
    assert endpoint.url == "https://hooks.example.com/lead"
    assert endpoint.events == ["lead.updated", "journey.created"]
    events = [
        e.type
        for e in db.session.scalars(
            db.select(Event).filter_by(lead_id=lead_id).order_by(Event.created_at)
        )
    ]
    assert events == ["lead.created", "journey.created", "journey.stage_entered"]
    messages = db.session.scalars(db.select(OutboxMessage).filter_by(lead_id=lead_id)).all()
    assert [m.payload["type"] for m in messages] == ["journey.created"]
    assert messages[0].target == "https://hooks.example.com/lead"


def test_a_journey_data_value_of_every_type_is_checked(api):
    factories.data_point(api.workspace, "starts", type="date")
    factories.data_point(api.workspace, "vip", type="boolean")
    factories.data_point(api.workspace, "site", type="url")

    good = api.register(
        {
            "email": "t@example.com",
            "JourneyData": {
                "team_size": "12",
                "plan": "growth",
                "starts": "2026-12-01",
                "vip": "yes",
                "site": "https://example.com",
            },
        }
    )
    bad = api.register(
        {
            "email": "u@example.com",
            "JourneyData": {
                "team_size": "many",
                "plan": "Gold",
                "starts": "tomorrow",
                "vip": "maybe",
                "site": "example",
            },
        }
    )

    assert good.status_code == 201
    journey = db.session.get(Journey, good.json["data"]["journey"]["id"])
    assert {d.data_point.name: d.value for d in journey.data} == {
        "team_size": 12,
        "plan": "Growth",
        "starts": "2026-12-01",
        "vip": True,
        "site": "https://example.com",
    }
    assert bad.status_code == 422
    assert len(bad.json["errors"]) == 5
    assert _leads() and all(lead.email != "u@example.com" for lead in _leads())


def test_double_opt_in_sends_the_confirmation_email_at_once(api):
    from leadsite.models import Channel

    api.funnel.double_opt_in = True
    db.session.commit()

    response = api.register({"email": "confirm-me@example.com"})

    assert response.json["data"]["confirmed"] is False
    email = db.session.scalar(
        db.select(OutboxMessage).filter_by(channel=Channel.EMAIL, target="confirm-me@example.com")
    )
    assert "/confirm/" in email.payload["text"]


def test_an_activity_removed_while_registering_is_left_out_on_retry(api, monkeypatch):
    """`register()` reads the funnel before taking the write lock; an activity deleted in
    between makes the steps' insert fail on its foreign key, and the retry reads it again."""
    from leadsite.journeys import plan as plan_module
    from leadsite.models import Activity
    from leadsite.registration import batch, build

    calls = []

    def plan_then_delete(funnel_id):
        plan = plan_module.funnel_plan(funnel_id)
        if not calls:  # another user deletes "Call" after the first read, and commits
            with db.engine.begin() as other:
                other.execute(db.delete(Activity).filter_by(title="Call"))
        calls.append(funnel_id)
        return plan

    monkeypatch.setattr(batch, "funnel_plan", plan_then_delete)
    monkeypatch.setattr(build, "funnel_plan", plan_then_delete)

    response = api.register({"Email": "race@example.com"})

    assert response.status_code == 201
    assert len(calls) == 2
    journey_id = response.json["data"]["journey"]["id"]
    titles = db.session.scalars(
        db.select(JourneyStep.title).filter_by(journey_id=journey_id).order_by(JourneyStep.position)
    ).all()
    assert titles == ["Welcome email", "Fill in your profile"]


def test_a_webhook_deleted_while_registering_gets_no_message_and_the_lead_is_kept(api, monkeypatch):
    """A new lead's events are built before the write lock, with the endpoints read then; an
    endpoint deleted in between makes the outbox insert fail on its foreign key, and the retry
    builds again without it."""
    from leadsite.registration import batch

    kept = WebhookEndpoint(
        workspace_id=api.workspace.id, url="https://a.example.com", events=["lead.created"]
    )
    gone = WebhookEndpoint(
        workspace_id=api.workspace.id, url="https://b.example.com", events=["lead.created"]
    )
    db.session.add_all([kept, gone])
    db.session.commit()
    gone_id, reads = gone.id, []
    read_endpoints = batch._workspace_endpoints

    def deleting_after_first_read(workspace_id):
        endpoints = read_endpoints(workspace_id)
        if not reads:  # another user deletes it after the first read, and commits
            with db.engine.begin() as other:
                other.execute(db.delete(WebhookEndpoint).filter_by(id=gone_id))
        reads.append(len(endpoints))
        return endpoints

    monkeypatch.setattr(batch, "_workspace_endpoints", deleting_after_first_read)

    response = api.register({"Email": "hooked@example.com"})

    assert response.status_code == 201
    assert reads[0] == 2 and reads[-1] == 1  # read again on the retry
    messages = db.session.scalars(
        db.select(OutboxMessage).filter_by(lead_id=response.json["data"]["id"])
    ).all()
    assert [message.target for message in messages] == ["https://a.example.com"]
    assert len(_leads()) == 1
