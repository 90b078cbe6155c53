"""Converted leads in the back-office: the list's filter (per funnel when one is chosen) and the
lead page's "Converted (funnel, date)"."""

from __future__ import annotations

import re

from leadsite.extensions import db
from leadsite.journeys.engine import complete_step
from leadsite.models import ActivityKind, Journey, JourneyStatus, JourneyStep, Lead, Role
from tests import factories


def _lead_in(funnel, email: str) -> tuple[Lead, JourneyStep]:
    lead = factories.registered(factories.origin(funnel), email=email)
    step = db.session.scalar(
        db.select(JourneyStep).join(Journey).filter(Journey.lead_id == lead.id)
    )
    return lead, step


def _shown(client, query: str) -> set[str]:
    body = client.get(f"/p/leads?{query}").get_data(as_text=True)
    return set(re.findall(r"[a-z]+@example\.com", body.split('id="lead-table"')[1]))


def test_the_lead_list_filters_converted_leads_per_funnel(client, auth):
    ws = factories.workspace()
    auth.login(factories.user(ws, role=Role.MANAGER).email)
    funnels = {}
    for name in ("Sales", "Support"):
        funnels[name] = factories.funnel(ws, name=name)
        stage = factories.stage(funnels[name], "Qualify")
        factories.activity(stage, ActivityKind.STAFF_TASK, "Call them")
    _, ada = _lead_in(funnels["Sales"], "ada@example.com")
    _lead_in(funnels["Sales"], "bob@example.com")
    _, cy = _lead_in(funnels["Sales"], "cy@example.com")
    _, dee = _lead_in(funnels["Support"], "dee@example.com")
    complete_step(ada)
    complete_step(dee)
    db.session.get(Journey, cy.journey_id).status = JourneyStatus.CANCELLED
    db.session.commit()
    sales = funnels["Sales"].id

    assert _shown(client, "converted=yes") == {"ada@example.com", "dee@example.com"}
    assert _shown(client, f"converted=yes&funnel={sales}") == {"ada@example.com"}
    assert _shown(client, f"converted=no&funnel={sales}") == {"bob@example.com", "cy@example.com"}
    assert _shown(client, "converted=whatever") == {
        "ada@example.com",
        "bob@example.com",
        "cy@example.com",
        "dee@example.com",
    }
    page = client.get("/p/leads?converted=yes").get_data(as_text=True)
    assert '<option value="yes" selected>' in page


def test_the_lead_page_says_converted_in_which_funnel_and_when(client, auth):
    ws = factories.workspace()
    auth.login(factories.user(ws).email)
    funnel = factories.funnel(ws, name="Sales")
    factories.activity(factories.stage(funnel, "Qualify"), ActivityKind.STAFF_TASK, "Call them")
    lead, step = _lead_in(funnel, "ada@example.com")
    before = client.get(f"/p/leads/{lead.id}").get_data(as_text=True)
    complete_step(step)
    db.session.commit()
    completed_at = db.session.get(Journey, step.journey_id).completed_at

    page = client.get(f"/p/leads/{lead.id}").get_data(as_text=True)

    assert "Converted (" not in before
    assert f"Converted (Sales, {completed_at:%Y-%m-%d})" in page
