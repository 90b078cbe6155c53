"""Multi-step forms: where a step's POST leads: back, on to the next step, or to registering.

Every step is a POST of the whole form (the answers of the other steps ride along as hidden
inputs), so the steps work the same with and without JavaScript; only the last step registers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from leadsite.models import Funnel, Origin
from leadsite.public.fields import FormSettings
from leadsite.public.form_logic import visible
from leadsite.public.submission import (
    CONSENT,
    Submission,
    errors_by_input,
    lead_input,
    missing,
)
from leadsite.public.submit import check_only, workspace_region
from leadsite.registration import RegistrationContext, ValidationFailed


@dataclass
class Move:
    """The step to show next, with the errors that keep the lead on it."""

    step: int
    errors: dict[str, str] = field(default_factory=dict)


def move(
    origin: Origin,
    funnel: Funnel,
    settings: FormSettings,
    submission: Submission,
    context: RegistrationContext,
) -> Move | None:
    """None when the last step was sent: then the whole form registers."""
    if submission.back:
        return Move(neighbour(settings, submission, -1))
    if submission.step >= settings.step_count - 1:
        return None
    errors = step_errors(origin, funnel, settings, submission, context)
    if errors:
        return Move(submission.step, errors)
    return Move(neighbour(settings, submission, +1))


def neighbour(settings: FormSettings, submission: Submission, direction: int) -> int:
    """The next (or previous) step that asks something; a step whose every field the answers
    hide is skipped. The last step always counts: it has the button that registers."""
    last = settings.step_count - 1
    step = submission.step + direction
    while 0 < step < last and not asks(settings, submission, step):
        step += direction
    return max(0, min(step, last))


def asks(settings: FormSettings, submission: Submission, step: int) -> bool:
    shown = visible(settings.fields, submission.values, open_step=step)
    return any(item.name in shown for item in settings.on_step(step))


def step_errors(
    origin: Origin,
    funnel: Funnel,
    settings: FormSettings,
    submission: Submission,
    context: RegistrationContext,
) -> dict[str, str]:
    """The problems with the answers of the step sent: empty required fields, and what the
    pipeline would refuse among them (an email address that is not one)."""
    region = workspace_region(origin)
    found = missing(submission, settings, submission.step, region)
    data, data_names = lead_input(submission, settings, origin.name, context, region)
    try:
        check_only(origin, funnel, data)
    except ValidationFailed as error:
        found += error.errors
    errors, _ = errors_by_input(found, settings, data_names)
    here = {item.name for item in settings.on_step(submission.step)}
    return {name: message for name, message in errors.items() if name in here}


def error_step(settings: FormSettings, errors: dict[str, str], default: int) -> int:
    """The step showing the first of these errors: a registration refused on the last step may
    be about an answer given on the first."""
    for item in settings.fields:
        if item.name in errors:
            return item.step
    return settings.step_count - 1 if CONSENT in errors else default
