"""Buttons of the lead page: finish a staff task, skip or retry a step, redeliver, erase."""

from __future__ import annotations

from flask import abort, flash, g, redirect, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from leadsite.backoffice import bp
from leadsite.backoffice.forms import EmptyForm
from leadsite.backoffice.lead_detail import respond
from leadsite.backoffice.lead_page import lead_or_404
from leadsite.backoffice.workspace import administrator_required
from leadsite.errors import error_page
from leadsite.extensions import db
from leadsite.htmx import is_htmx, render_page_or_block
from leadsite.journeys.engine import StepNotOpen, complete_step
from leadsite.journeys.lead_activity_config import MARKED_DONE_BY_STAFF
from leadsite.journeys.stakeholder_answers import retry
from leadsite.leads.changes import erase_lead
from leadsite.models import ActivityKind, Journey, JourneyStep, OutboxMessage, StepStatus
from leadsite.outbox.manage import NothingToSend, redeliver

NOT_OPEN = "This step is not open now: its stage has not started, or the journey has ended."


def _back_to(lead_id: str, section: str) -> Response:
    return redirect(url_for("backoffice.lead_detail", lead_id=lead_id) + f"#lead-{section}")


def _step_or_404(lead_id: str, step_id: str) -> JourneyStep:
    step = db.session.scalar(
        db.select(JourneyStep)
        .join(Journey, Journey.id == JourneyStep.journey_id)
        .filter(
            JourneyStep.id == step_id,
            Journey.lead_id == lead_id,
            Journey.workspace_id == g.workspace.id,
        )
    )
    if step is None:
        abort(404)
    return step


@bp.post("/leads/<lead_id>/steps/<step_id>/<any(done, skip, retry):action>")
def lead_step_action(lead_id: str, step_id: str, action: str) -> Response:
    """Mark a due staff task done, or skip or retry a failed step; the journey moves on by the
    funnel's rules, and the journeys section and timeline show where it stands now."""
    lead = lead_or_404(lead_id)
    step = _step_or_404(lead.id, step_id)
    if action == "done" and step.kind not in (ActivityKind.STAFF_TASK, *MARKED_DONE_BY_STAFF):
        return error_page(409, "Only staff tasks are marked done by hand.", title="Not done")
    if action == "retry" and step.status != StepStatus.FAILED:
        return error_page(409, "Only a failed step can be retried.", title="Not changed")
    # A webhook step waiting for its delivery (retried for up to days) may be skipped too.
    if action == "skip" and step.status not in (StepStatus.FAILED, StepStatus.WAITING):
        return error_page(409, "Only a failed or waiting step can be skipped.", title="Not changed")
    try:
        if action == "retry":
            retry(step)  # a stakeholder task: due again, with a new link emailed
        else:
            complete_step(step, actor_id=current_user.id, skipped=action == "skip")
    except StepNotOpen:
        db.session.rollback()
        return error_page(409, NOT_OPEN, title="Not changed")
    db.session.commit()
    messages = {"done": "marked done", "skip": "skipped", "retry": "queued to run again"}
    flash(f"“{step.title}” {messages[action]}.", "success")
    if not is_htmx():
        return _back_to(lead.id, "journeys")
    return respond(lead, "lead_journeys", oob=("lead_timeline",))


@bp.post("/leads/<lead_id>/deliveries/<message_id>/redeliver")
@administrator_required
def lead_redeliver(lead_id: str, message_id: str) -> Response:
    """Queue a message of this lead again, now; receivers see the same webhook-id. Sending
    lead data out again is the administrators' call, as the webhooks' settings are."""
    lead = lead_or_404(lead_id)
    message = db.session.scalar(
        db.select(OutboxMessage).filter_by(
            id=message_id, lead_id=lead.id, workspace_id=g.workspace.id
        )
    )
    if message is None:
        abort(404)
    try:
        redeliver(message)
    except NothingToSend:
        return error_page(409, "Its lead was erased: it has nothing to send.", title="Not sent")
    db.session.commit()
    flash("Queued again: the worker sends it within seconds.", "success")
    if not is_htmx():
        return _back_to(lead.id, "deliveries")
    return respond(lead, "lead_deliveries")


@bp.route("/leads/<lead_id>/erase", methods=["GET", "POST"])
def lead_erase(lead_id: str) -> Response:
    """Ask to confirm, then erase the lead's personal data; the anonymous row stays."""
    lead = lead_or_404(lead_id)
    form = EmptyForm()
    if lead.erased_at is not None:
        flash("This lead's personal data was already erased.", "info")
        return redirect(url_for("backoffice.lead_detail", lead_id=lead.id))
    if not form.validate_on_submit():
        return render_page_or_block(
            "backoffice/leads/erase.html", "erase_confirm", lead=lead, form=form
        )
    erase_lead(lead)
    db.session.commit()
    flash("Personal data erased. The anonymous record stays, with its journeys.", "success")
    return redirect(url_for("backoffice.lead_detail", lead_id=lead.id))
