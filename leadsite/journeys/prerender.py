"""Render a journey step's staff-written texts before its write transaction, holding nothing.

The worker runs a step in a write transaction (on SQLite, BEGIN IMMEDIATE: the one write lock
every registration waits for). Rendering an email's staff-written subject and body there would
make every registration wait for it, so `prerender_step` reads what the texts need, ends that
read, and renders them with no transaction open; `run_step`, inside `emails.prerendered()`,
then finds them rendered. Should the lead or the activity change in between, the step renders
them again itself, within the same budget.
"""

from __future__ import annotations

from contextlib import suppress

from flask_babel import force_locale

from leadsite import i18n
from leadsite.extensions import db
from leadsite.journeys.conditions import data_values
from leadsite.journeys.emails import (
    TemplateFailed,
    localized,
    render_text,
    template_context,
    template_sources,
)
from leadsite.models import JourneyStep, StepStatus


def prerender_step(step_id: str) -> None:
    """Render the texts of the step's email (if it sends one) into `emails.prerendered()`'s
    memory. Failures are remembered too, for the step to fail with."""
    step = db.session.get(JourneyStep, step_id)
    if step is None or step.status != StepStatus.DUE or step.activity is None:
        db.session.rollback()
        return
    journey = step.journey
    language = i18n.lead_language(journey.lead)
    config = localized(dict(step.activity.config or {}), language)
    with force_locale(language):
        sources = template_sources(step.kind, config, step.title)
    if not sources:
        db.session.rollback()
        return
    context = template_context(journey.lead, journey, data_values(journey))
    db.session.rollback()  # nothing is held while staff text renders
    for source in sources:
        # A failure is remembered too: the step fails with it under the lock, at once.
        with suppress(TemplateFailed):
            render_text(source, context)
