"""Zero-downtime upgrades: the previous release's code runs against this release's schema.

During a rolling upgrade the database is migrated first, and the old code keeps serving until
its hosts are restarted. So: a fresh database is migrated to this tree's head with this tree's
code, which also makes the demo workspace; then the previous release (tests/operations/
previous_release.py says which commit that is) runs from its own exported tree as real web and
worker processes, and does what an old process does meanwhile: answers the balancer's probe,
registers through the API and the hosted page, serves staff their leads, delivers webhooks
(also for what this code registers at the same time) and runs journey steps. Last, this code
reads what the old code wrote.

A migration that drops or renames what the old code uses (contract before expand) fails here.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask_migrate import upgrade
from standardwebhooks.webhooks import Webhook

from leadsite.demo import DemoWorkspace, ensure_demo_workspace
from leadsite.extensions import db
from leadsite.models import (
    Journey,
    JourneyStep,
    Lead,
    MessageStatus,
    Origin,
    OutboxMessage,
    StepStatus,
    Workspace,
)
from tests import factories
from tests.conftest import AuthActions
from tests.operations import previous_release as previous
from tests.operations.conftest import outage_app
from tests.operations.processes import ROOT
from tests.servers import eventually, webhook_receiver

pytestmark = pytest.mark.timeout(300)

CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
FORM_TOKEN = re.compile(r'name="_token" value="([^"]+)"')
API_EMAIL = "olga.old@example.com"
PAGE_EMAIL = "pavel.page@example.com"
NEW_EMAIL = "nina.new@example.com"


@pytest.fixture
def old_tree(tmp_path: Path) -> tuple[previous.Release, Path]:
    if not (ROOT / ".git").exists():
        pytest.skip(f"no git history at {ROOT}: the previous release cannot be found")
    try:
        release = previous.previous_release()
    except previous.GitError as error:
        pytest.fail(f"the previous release: {error}")
    return release, previous.export(release.commit, tmp_path / "previous")


def _explain(step: str, response: requests.Response, served: previous.Running) -> str:
    """What a failed step shows: the answer, and the old processes' errors and logs."""
    return (
        f"the previous release's {step} answered {response.status_code}: "
        f"{response.text[:800]}{served.logged()}"
    )


def _leads(email: str) -> list[Lead]:
    db.session.rollback()  # a new snapshot (SQLite keeps a read transaction's)
    return list(db.session.scalars(db.select(Lead).filter_by(email=email)))


def test_the_previous_release_runs_on_this_schema(old_tree, tmp_path):
    release, tree = old_tree
    with previous.fresh_database(tmp_path) as url:
        app = outage_app(url, DEMO_CREDENTIALS_FILE=str(tmp_path / "demo.json"))
        with app.app_context():
            upgrade()
            # The old processes start while this code makes the demo (they take longest).
            with (
                previous.old_processes(tree, url, tmp_path) as served,
                webhook_receiver() as receiver,
            ):
                demo = ensure_demo_workspace("http://localhost", tmp_path / "demo.json")
                workspace = db.session.get(Workspace, demo.workspace_id)
                events = ["lead.created", "lead.updated"]
                endpoint = factories.webhook_endpoint(workspace, url=receiver.url, events=events)
                served.up()
                lead_id = _old_code_serves(release, demo, served, endpoint, receiver)
                _old_worker_delivers_this_codes_registration(app, demo, served, receiver)
            _new_code_reads(app, demo, lead_id)
            db.session.remove()
            db.engine.dispose()


def _old_code_serves(
    release: previous.Release, demo: DemoWorkspace, served: previous.Running, endpoint, receiver
) -> str:
    """What an old process does during the upgrade, each step checked in the database."""
    endpoint_id, secret = endpoint.id, endpoint.secret
    web = requests.Session()
    ahead = "ahead" if release.heads != previous.working_tree_heads() else "ok"

    # The balancer's probe: ready, and aware that the schema is newer than its code.
    ready = web.get(f"{served.url}/readyz", timeout=10)
    assert ready.status_code == 200, _explain("/readyz", ready, served)
    assert ready.json()["checks"]["database"] == ahead, (release, ready.json())

    # A visitor opens the hosted page (its form token starts the minimum fill time).
    page_ref = demo.origins["page"]
    page = web.get(f"{served.url}/r/{page_ref}", timeout=10)
    assert page.status_code == 200, _explain("hosted page", page, served)
    form_token = FORM_TOKEN.search(page.text)
    assert form_token, page.text[:800]
    opened = time.monotonic()

    # The API: a new lead, then the same lead registered again with more, then patched.
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {demo.api_key}"
    registration = f"{served.url}/api/v1/leads?ref={demo.origins['api']}"
    body = {
        "email": API_EMAIL,
        "first_name": "Olga",
        "JourneyData": [{"Name": "company", "Value": "Old Release Ltd"}],
    }
    created = api.post(registration, json=body, timeout=10)
    assert created.status_code == 201, _explain("API registration", created, served)
    lead_id = created.json()["data"]["id"]
    assert [lead.id for lead in _leads(API_EMAIL)] == [lead_id]

    again = {
        "email": API_EMAIL,
        "last_name": "Oldham",
        "JourneyData": [{"Name": "team_size", "Value": 12}],
    }
    updated = api.post(registration, json=again, timeout=10)
    assert updated.status_code == 200, _explain("API update", updated, served)
    assert updated.json()["created"] is False and updated.json()["data"]["id"] == lead_id
    patched = api.patch(
        f"{served.url}/api/v1/leads/{lead_id}", json={"tags": ["upgrade"]}, timeout=10
    )
    assert patched.status_code == 200, _explain("API PATCH", patched, served)
    (lead,) = _leads(API_EMAIL)
    assert (lead.first_name, lead.last_name, lead.tags) == ("Olga", "Oldham", ["upgrade"])

    # The visitor sends the hosted form (after the minimum fill time).
    time.sleep(max(0.0, 2.2 - (time.monotonic() - opened)))
    sent = web.post(
        f"{served.url}/r/{page_ref}",
        data={
            "_token": form_token.group(1),
            "website": "",
            "email": PAGE_EMAIL,
            "first_name": "Pavel",
        },
        timeout=10,
    )
    assert sent.status_code == 200, _explain("hosted page POST", sent, served)
    assert "Thanks! Check your inbox." in sent.text, sent.text[:800]
    (page_lead,) = _leads(PAGE_EMAIL)
    assert page_lead.first_name == "Pavel"
    assert db.session.get(Origin, page_lead.origin_id).ref == page_ref

    # Staff sign in and look at the leads list and the lead's page.
    staff = requests.Session()
    login = staff.get(f"{served.url}/login", timeout=10)
    csrf = CSRF_INPUT.search(login.text)
    assert login.status_code == 200 and csrf, _explain("sign-in page", login, served)
    signed_in = staff.post(
        f"{served.url}/login",
        data={"email": demo.email, "password": demo.password, "csrf_token": csrf.group(1)},
        timeout=10,
    )
    assert signed_in.status_code == 200 and "/login" not in signed_in.url, _explain(
        "sign-in", signed_in, served
    )
    listing = staff.get(f"{served.url}/p/leads", timeout=10)
    assert listing.status_code == 200, _explain("leads list", listing, served)
    assert API_EMAIL in listing.text and PAGE_EMAIL in listing.text
    detail = staff.get(f"{served.url}/p/leads/{lead_id}", timeout=10)
    assert detail.status_code == 200, _explain("lead page", detail, served)
    assert API_EMAIL in detail.text and "Old Release Ltd" in detail.text

    # The old worker delivers the registrations' webhooks to a real receiver, signed.
    expected = {("lead.created", lead_id), ("lead.created", page_lead.id)}
    expected.add(("lead.updated", lead_id))
    assert eventually(lambda: _delivered(receiver) >= expected, timeout=30), (
        f"webhooks missing: {sorted(expected - _delivered(receiver))}" + served.logged()
    )
    for request in receiver.requests:  # signed with the secret this release stored
        Webhook(secret).verify(request.body, request.headers)

    def recorded() -> int:  # the worker records each delivery after its answer
        db.session.rollback()
        return len(
            db.session.scalars(
                db.select(OutboxMessage.id).filter_by(
                    endpoint_id=endpoint_id, status=MessageStatus.DELIVERED
                )
            ).all()
        )

    assert eventually(lambda: recorded() == len(receiver.requests), timeout=10), (
        f"{recorded()} deliveries recorded, {len(receiver.requests)} received" + served.logged()
    )

    # The old worker also runs the journey's due steps: the welcome email is sent.
    def welcomed() -> bool:
        db.session.rollback()
        return (
            db.session.scalar(
                db.select(JourneyStep.status)
                .join(Journey)
                .filter(Journey.lead_id == lead_id, JourneyStep.title == "Send the welcome email")
            )
            == StepStatus.DONE
        )

    assert eventually(welcomed, timeout=30), "the welcome email step is not done" + served.logged()
    return lead_id


def _delivered(receiver) -> set[tuple[str, str]]:
    """(event type, lead id) of each webhook the receiver was sent."""
    payloads = [json.loads(request.body) for request in list(receiver.requests)]
    return {(p["type"], p["data"]["id"]) for p in payloads}


def _old_worker_delivers_this_codes_registration(
    app: Flask, demo: DemoWorkspace, served: previous.Running, receiver
) -> None:
    """Both releases serve during the upgrade: a registration this code answers (with an
    Idempotency-Key, whose record has this release's column) goes out by the old worker."""
    response = app.test_client().post(
        f"/api/v1/leads?ref={demo.origins['api']}",
        json={"email": NEW_EMAIL, "first_name": "Nina"},
        headers={"Authorization": f"Bearer {demo.api_key}", "Idempotency-Key": "upgrade-1"},
    )
    assert response.status_code == 201, response.get_data(as_text=True)[:800]
    created = ("lead.created", response.json["data"]["id"])
    assert eventually(lambda: created in _delivered(receiver), timeout=30), (
        f"the old worker did not deliver {created}" + served.logged()
    )


def _new_code_reads(app: Flask, demo: DemoWorkspace, lead_id: str) -> None:
    """This release reads what the old code wrote: the lead, its journey, its data and the
    steps the old worker ran, through the API and the staff's lead page."""
    db.session.rollback()
    client = app.test_client()
    auth = {"Authorization": f"Bearer {demo.api_key}"}
    lead = client.get(f"/api/v1/leads/{lead_id}", headers=auth)
    assert lead.status_code == 200, lead.get_data(as_text=True)[:800]
    data = lead.json["data"]
    assert (data["email"], data["first_name"], data["last_name"]) == (API_EMAIL, "Olga", "Oldham")
    assert data["tags"] == ["upgrade"]
    (journey_id,) = db.session.scalars(db.select(Journey.id).filter_by(lead_id=lead_id))
    journey = client.get(f"/api/v1/journeys/{journey_id}", headers=auth)
    assert journey.status_code == 200, journey.get_data(as_text=True)[:800]
    shown = journey.json["data"]
    assert (shown["lead_id"], shown["funnel_id"]) == (lead_id, demo.funnel_id)
    assert shown["data"] == {"company": "Old Release Ltd", "team_size": 12}
    steps = {step["title"]: step["status"] for step in shown["steps"]}
    assert steps["Send the welcome email"] == StepStatus.DONE, steps

    staff = AuthActions(client)
    assert staff.login(demo.email, demo.password).status_code == 302
    page = client.get(f"/p/leads/{lead_id}")
    assert page.status_code == 200
    assert API_EMAIL in page.get_data(as_text=True)
    assert "Old Release Ltd" in page.get_data(as_text=True)


# Which release is the previous one: a small repository of its own, commit by commit.


def _migration(repo: Path, revision: str, down: str | None) -> None:
    path = repo / previous.VERSIONS / f"{revision}.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'"""{revision}"""\nrevision = "{revision}"\ndown_revision = {down!r}\n')


AUTHOR = ("-c", "user.name=Test", "-c", "user.email=test@example.com")


def _commit(repo: Path, message: str) -> str:
    previous.git("add", "-A", root=repo)
    previous.git(*AUTHOR, "commit", "-q", "--allow-empty", "-m", message, root=repo)
    return previous.git("rev-parse", "HEAD", root=repo).strip()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("PREVIOUS_RELEASE", raising=False)
    previous.git("init", "-q", "-b", "main", str(tmp_path / "repo"), root=tmp_path)
    return tmp_path / "repo"


def test_the_previous_release_is_the_last_commit_before_the_heads_changed(repo):
    _migration(repo, "0001", None)
    _commit(repo, "first migration")
    (repo / "README").write_text("docs")
    before = _commit(repo, "docs")
    _migration(repo, "0002", "0001")
    _commit(repo, "second migration")
    _commit(repo, "more code")

    chosen = previous.previous_release(repo)

    assert (chosen.commit, chosen.heads) == (before, {"0001"})


def test_a_migration_not_committed_yet_makes_head_the_previous_release(repo):
    _migration(repo, "0001", None)
    head = _commit(repo, "first migration")
    _migration(repo, "0002", "0001")

    assert previous.previous_release(repo).commit == head


def test_a_merge_that_brings_a_migration_runs_the_code_it_was_merged_on(repo):
    _migration(repo, "0001", None)
    _commit(repo, "first migration")
    previous.git("switch", "-q", "-c", "side", root=repo)
    _migration(repo, "0002", "0001")
    _commit(repo, "second migration, on a branch")
    previous.git("switch", "-q", "main", root=repo)
    (repo / "README").write_text("docs")
    merged_on = _commit(repo, "docs")
    previous.git(*AUTHOR, "merge", "-q", "--no-ff", "--no-edit", "side", root=repo)

    assert previous.previous_release(repo).commit == merged_on


def test_previous_release_names_a_release_and_a_shallow_clone_says_what_to_do(
    repo, tmp_path, monkeypatch
):
    _migration(repo, "0001", None)
    first = _commit(repo, "first migration")
    _migration(repo, "0002", "0001")
    _commit(repo, "second migration")
    shallow = tmp_path / "shallow"
    previous.git("clone", "-q", "--depth", "1", f"file://{repo}", str(shallow), root=tmp_path)

    with pytest.raises(previous.GitError, match=r"shallow clone.*PREVIOUS_RELEASE"):
        previous.previous_release(shallow)
    monkeypatch.setenv("PREVIOUS_RELEASE", first)
    assert previous.previous_release(repo).heads == {"0001"}
