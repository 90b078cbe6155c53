"""A deactivation and an assignment of a task to the person deactivated, at once, through a real
server: whichever goes first, the task ends up the team's (unassigned), never the departed
member's. The deactivation takes every membership of the workspace; a member's change holds
theirs (FOR SHARE) until it commits, so the two take turns on PostgreSQL; on SQLite the one
write lock makes them.

Before the fix, the deactivation left the task assigned to them whichever went first."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from flask import Flask

from leadsite.access import departures
from leadsite.access.members import still_a_member
from leadsite.backoffice.workspace import lock_memberships
from leadsite.database import begin_write_transaction
from leadsite.extensions import db
from leadsite.journeys.tasks import assign_step
from leadsite.models import (
    ActivityKind,
    Event,
    Journey,
    JourneyStep,
    Membership,
    Role,
    StepStatus,
    User,
    Workspace,
)
from leadsite.outbox import event_types
from tests import factories
from tests.concurrency.conftest import serve
from tests.concurrency.parallel import csrf, post, signed_in
from tests.concurrency.test_turns import _waiting_for_a_lock
from tests.concurrency.world import ada_and_bea
from tests.servers import eventually


def _world() -> tuple[Workspace, User, User, User, str, str]:
    """Acme with Ada (administrator), Bea and Cy (managers), and a lead's open staff task
    assigned to nobody; Bea's membership's id and the task's id."""
    ws, ada, bea, bea_membership = ada_and_bea()
    cy = factories.user(ws, role=Role.MANAGER, email="cy@example.com")
    funnel = factories.funnel(ws)
    factories.activity(factories.stage(funnel, "First"), ActivityKind.STAFF_TASK, "Call")
    lead = factories.registered(factories.origin(funnel), email="lee@example.com")
    step_id = db.session.scalar(
        db.select(JourneyStep.id)
        .join(Journey)
        .filter(Journey.lead_id == lead.id, JourneyStep.status == StepStatus.DUE)
    )
    db.session.commit()
    return ws, ada, bea, cy, bea_membership, step_id


def _while_held(send, postgres: bool) -> requests.Response:
    """Send the request while the test's transaction holds what it needs; commit once it
    waits (PostgreSQL), or at once (SQLite: it waits for the write lock either way)."""
    with ThreadPoolExecutor(1) as pool:
        sent = pool.submit(send)
        if postgres:
            eventually(lambda: _waiting_for_a_lock() >= 1, timeout=30)
        else:
            time.sleep(0.5)  # not asserted on: either order ends the same on SQLite
        db.session.commit()
        return sent.result()


def _after() -> tuple[str | None, int]:
    db.session.rollback()
    db.session.expire_all()
    step = db.session.scalar(db.select(JourneyStep))
    events = db.session.scalar(
        db.select(db.func.count())
        .select_from(Event)
        .filter_by(type=event_types.JOURNEY_TASK_UNASSIGNED)
    )
    return step.assignee_id, events


def test_a_task_given_to_someone_as_they_are_deactivated_goes_back_to_the_team(
    app: Flask, tmp_path: Path
) -> None:
    ws, ada, bea, cy, bea_membership, step_id = _world()
    postgres = db.engine.dialect.name == "postgresql"
    with serve(app, "gunicorn-gthread", tmp_path) as server:
        admin = signed_in(server.url, ada.email)
        token = csrf(admin, f"{server.url}/p/settings/users")

        # Cy's assignment is under way: it holds Cy's membership, as a member's change does,
        # and has given the task to Bea (the write lock first, for SQLite).
        db.session.rollback()
        begin_write_transaction()
        assign_step(db.session.get(JourneyStep, step_id), bea.id)
        assert still_a_member(cy.id, ws.id)
        answer = _while_held(
            lambda: post(
                f"{server.url}/p/settings/users/{bea_membership}/deactivate",
                {"csrf_token": token},
                admin,
            ),
            postgres,
        )

    assert answer.status_code == 302, answer.text[:300]
    assert _after() == (None, 1)


def test_an_assignment_that_waited_for_the_deactivation_is_refused(
    app: Flask, tmp_path: Path
) -> None:
    ws, _, bea, cy, bea_membership, step_id = _world()
    postgres = db.engine.dialect.name == "postgresql"
    with serve(app, "gunicorn-gthread", tmp_path) as server:
        manager = signed_in(server.url, cy.email)
        token = csrf(manager, f"{server.url}/p/tasks")

        # Ada's deactivation of Bea is under way: every membership locked, Bea's deactivated.
        db.session.rollback()
        begin_write_transaction()
        departures.deactivate(db.session.get(Membership, bea_membership))
        lock_memberships(ws.id)
        answer = _while_held(
            lambda: post(
                f"{server.url}/p/tasks/{step_id}/assign",
                {"csrf_token": token, "assignee": bea.id},
                manager,
            ),
            postgres,
        )

    assert answer.status_code == 422, answer.text[:300]
    assert "Choose a member of this workspace" in answer.text
    assert _after() == (None, 0)
