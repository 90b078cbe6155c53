"""`flask leadsite demo` and `create-user`."""

from __future__ import annotations

import json
from pathlib import Path

from leadsite.accounts import hash_api_key
from leadsite.extensions import db
from leadsite.journeys.engine import complete_step
from leadsite.models import (
    ActivityKind,
    ApiKey,
    Funnel,
    Journey,
    JourneyStep,
    Lead,
    Membership,
    Origin,
    User,
    Workspace,
)
from leadsite.outbox.worker import run_steps
from leadsite.passwords import verify_password
from leadsite.registration import LeadInput, RegistrationContext, register
from leadsite.registration.inputs import JourneyDataInput
from tests.bodies import CHATBOT_EXAMPLE, KOHOMAI_FULL, KOHOMAI_NESTED
from tests.journeys.stakeholder_world import emails_to


def _count(model, **filters) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model).filter_by(**filters))


def test_demo_creates_a_complete_workspace(runner):
    result = runner.invoke(args=["leadsite", "demo", "--json"])

    assert result.exit_code == 0, result.output
    demo = json.loads(result.output)
    assert set(demo) == {
        "base_url",
        "email",
        "password",
        "api_key",
        "publishable_key",
        "workspace_id",
        "funnel_id",
        "origins",
    }
    assert set(demo["origins"]) == {"api", "page", "embed", "backoffice"}
    assert _count(Lead, workspace_id=demo["workspace_id"]) == 25
    funnel = db.session.get(Funnel, demo["funnel_id"])
    assert funnel.name == "Demo onboarding" and len(funnel.stages) == 2
    opening = db.session.scalar(db.select(Funnel).filter_by(name="Account opening"))
    about, sales, paperwork = opening.stages
    assert about.decisions[0]["to"] == sales.id and about.otherwise == paperwork.id
    assert [a.kind for a in paperwork.activities] == ["stakeholder_task", "upload", "sign"]
    embed = db.session.scalar(db.select(Origin).filter_by(ref=demo["origins"]["embed"]))
    assert embed.allowed_domains == ["http://localhost:*", "http://127.0.0.1:*"]
    user = db.session.scalar(db.select(User).filter_by(email=demo["email"]))
    assert verify_password(user.password_hash, demo["password"])
    key = db.session.scalar(
        db.select(ApiKey).filter_by(workspace_id=demo["workspace_id"], publishable=False)
    )
    assert key.secret_hash == hash_api_key(demo["api_key"])
    assert demo["api_key"] not in {key.prefix, key.secret_hash}


def test_the_demo_accountant_is_asked_in_words_written_for_them(runner):
    """Found from outside: the accountant's email said "Your accountant approves: Lena Kraus"
    and their page's heading "Your accountant approves", a title written for the lead."""
    runner.invoke(args=["leadsite", "demo"])
    opening = db.session.scalar(db.select(Funnel).filter_by(name="Account opening"))
    origin = db.session.scalar(db.select(Origin).filter_by(funnel_id=opening.id))
    lead_input = LeadInput(
        email="lena@example.com",
        first_name="Lena",
        last_name="Kraus",
        journey_data=[
            JourneyDataInput("team_size", 3),
            JourneyDataInput("accountant_email", "books@example.com"),
        ],
    )
    journey = register(origin, lead_input, RegistrationContext()).journey
    db.session.commit()
    while run_steps():  # the sample leads' steps, and this journey's welcome email
        pass
    task = db.session.scalar(
        db.select(JourneyStep).filter_by(journey_id=journey.id, kind=ActivityKind.LEAD_TASK)
    )
    complete_step(task)
    db.session.commit()
    run_steps()  # the stakeholder's request

    (request,) = emails_to("books@example.com")
    assert request.payload["subject"] == "Approve the account: Lena Kraus"
    assert "Your accountant" not in request.payload["text"] + request.payload["html"]


def test_demo_run_twice_keeps_one_workspace_and_its_credentials(runner, client, auth):
    first = json.loads(runner.invoke(args=["leadsite", "demo", "--json"]).output)
    second = json.loads(runner.invoke(args=["leadsite", "demo", "--json"]).output)

    assert second == first
    assert _count(Workspace) == 1
    assert _count(Funnel) == 2  # Demo onboarding and Account opening
    assert _count(Lead) == 25
    assert _count(Membership) == 1
    assert _count(ApiKey, revoked_at=None, publishable=False) == 1
    assert auth.login(first["email"], first["password"]).status_code == 302
    response = client.get("/api/v1/leads", headers={"Authorization": f"Bearer {first['api_key']}"})
    assert response.status_code == 200


def test_demo_reset_sets_a_new_password_and_revokes_the_old_key(runner):
    first = json.loads(runner.invoke(args=["leadsite", "demo", "--json"]).output)
    second = json.loads(runner.invoke(args=["leadsite", "demo", "--json", "--reset"]).output)
    third = json.loads(runner.invoke(args=["leadsite", "demo", "--json"]).output)

    assert second["workspace_id"] == first["workspace_id"]
    assert second["origins"] == first["origins"]
    assert second["password"] != first["password"]
    assert second["api_key"] != first["api_key"]
    old = db.session.scalar(db.select(ApiKey).filter_by(secret_hash=hash_api_key(first["api_key"])))
    assert old.revoked_at is not None
    assert second["publishable_key"] == first["publishable_key"]  # public, so kept
    assert third == second  # the reset's credentials are the ones kept


def test_demo_makes_new_credentials_when_the_kept_ones_are_lost(app, runner):
    first = json.loads(runner.invoke(args=["leadsite", "demo", "--json"]).output)
    Path(app.config["DEMO_CREDENTIALS_FILE"]).unlink()

    result = runner.invoke(args=["leadsite", "demo"])

    assert result.exit_code == 0, result.output
    assert first["password"] not in result.output and first["api_key"] not in result.output
    assert "new ones; older demo keys are revoked" in result.output
    user = db.session.scalar(db.select(User).filter_by(email=first["email"]))
    assert not verify_password(user.password_hash, first["password"])


def test_the_demo_workspace_registers_the_api_guides_full_body_as_printed(runner, client):
    demo = json.loads(runner.invoke(args=["leadsite", "demo", "--json"]).output)

    response = client.post(
        f"/api/v1/leads?ref={demo['origins']['api']}",
        json=KOHOMAI_FULL,
        headers={"Authorization": f"Bearer {demo['api_key']}"},
    )

    assert response.status_code == 201, response.json
    journey = db.session.get(Journey, response.json["data"]["journey"]["id"])
    assert {item.data_point.name: item.value for item in journey.data} == {
        "My datapoint": "example"
    }
    assert journey.redirect_url == "https://www.myapp.com"


def test_the_demo_workspace_answers_the_dialects_that_name_no_origin(runner, client):
    demo = json.loads(runner.invoke(args=["leadsite", "demo", "--json"]).output)
    headers = {"Authorization": f"Bearer {demo['api_key']}"}

    chatbot = client.post("/api/v1/leads", json=CHATBOT_EXAMPLE, headers=headers)
    kohomai = client.post("/api/v1/journeys", json=KOHOMAI_NESTED, headers=headers)

    assert chatbot.status_code == 201, chatbot.json
    assert kohomai.status_code == 201, kohomai.json
    api_origin = db.session.scalar(db.select(Origin).filter_by(ref=demo["origins"]["api"]))
    for lead_id in (chatbot.json["data"]["id"], kohomai.json["User"]["Id"]):
        assert db.session.get(Lead, lead_id).origin_id == api_origin.id


def test_demo_prints_how_to_sign_in_and_where_the_credentials_are_kept(app, runner):
    runner.invoke(args=["leadsite", "demo"])
    result = runner.invoke(args=["leadsite", "demo"])

    assert "http://localhost/login" in result.output
    assert "admin@demo.example" in result.output
    kept = json.loads(Path(app.config["DEMO_CREDENTIALS_FILE"]).read_text())
    assert f"Password: {kept['password']}" in result.output
    assert f"API key:  {kept['api_key']}" in result.output
    assert "the same as last run; `make run RESET=1` sets new ones" in result.output
    assert app.config["DEMO_CREDENTIALS_FILE"] in result.output


def test_create_user_adds_a_member_with_a_role(runner):
    result = runner.invoke(
        args=[
            "leadsite",
            "create-user",
            "--email",
            "Boss@Example.com",
            "--role",
            "manager",
            "--workspace",
            "Acme Corp",
            "--password",
            "a long passphrase",
        ]
    )

    assert result.exit_code == 0, result.output
    user = db.session.scalar(db.select(User).filter_by(email="boss@example.com"))
    assert user.memberships[0].role == "manager"
    assert user.memberships[0].workspace.slug == "acme-corp"
    assert verify_password(user.password_hash, "a long passphrase")


def test_create_user_refuses_an_unknown_role(runner):
    result = runner.invoke(
        args=[
            "leadsite",
            "create-user",
            "--email",
            "a@example.com",
            "--role",
            "owner",
            "--workspace",
            "acme",
        ]
    )

    assert result.exit_code == 2
    assert _count(User) == 0


def test_the_demo_publishable_key_registers_from_a_local_page_only(runner, client):
    demo = json.loads(runner.invoke(args=["leadsite", "demo", "--json"]).output)
    url = f"/api/v1/leads?ref={demo['origins']['api']}"
    headers = {"Authorization": f"Bearer {demo['publishable_key']}"}

    page = client.post(
        url,
        json={"email": "page@example.com"},
        headers={**headers, "Origin": "http://localhost:8000"},
    )
    listing = client.get("/api/v1/leads", headers=headers)

    assert demo["publishable_key"].startswith("lpk_")
    assert page.status_code == 201, page.json
    assert listing.status_code == 403 and listing.json["code"] == "INSUFFICIENT_SCOPE"
