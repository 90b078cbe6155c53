"""Handle a posted public form: bot checks, then the registration pipeline, then what to show."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from flask import current_app

from leadsite.api.ingest import note
from leadsite.extensions import db
from leadsite.models import Funnel, IngestOutcome, Origin, Workspace
from leadsite.public.fields import FormSettings
from leadsite.public.submission import Submission, errors_by_input, lead_input, missing
from leadsite.public.tokens import form_token_age
from leadsite.registration import (
    Duplicate,
    FunnelClosed,
    LeadInput,
    NotFound,
    Registration,
    RegistrationContext,
    RegistrationError,
    ValidationFailed,
    register,
)
from leadsite.registration.validate import clean

log = logging.getLogger(__name__)

EXPIRED = (
    "This form was open for a long time, so we could not accept it yet. Everything you typed "
    "is still here: check it and send it again."
)
DEFAULT_MIN_FILL_SECONDS = 2.0
DIALECT = "form"  # the hosted page's and the embed form's calls in the ingestion log


@dataclass
class Outcome:
    """What came of a submission: a registration, errors to show, a closed funnel, or a bot."""

    registration: Registration | None = None
    errors: dict[str, str] = field(default_factory=dict)  # by input name
    form_errors: list[str] = field(default_factory=list)
    closed: RegistrationError | None = None
    bot: bool = False

    @property
    def failed(self) -> bool:
        return bool(self.errors or self.form_errors)


def min_fill_seconds() -> float:
    return float(current_app.config.get("PUBLIC_FORM_MIN_FILL_SECONDS", DEFAULT_MIN_FILL_SECONDS))


def submit(
    origin: Origin,
    funnel: Funnel,
    settings: FormSettings,
    submission: Submission,
    context: RegistrationContext,
) -> Outcome:
    """Register the submission through the pipeline, unless it looks like a bot's."""
    note(dialect=DIALECT, origin_id=origin.id, workspace_id=origin.workspace_id)
    age = form_token_age(submission.token, origin.ref)
    if submission.honeypot or (age is not None and age < min_fill_seconds()):
        log.info("origin %s: a bot submission was dropped (age %s)", origin.id, age)
        why = "the hidden field was filled in" if submission.honeypot else "sent too fast"
        note(code="BOT", outcome=IngestOutcome.REJECTED, message=f"Taken for a bot: {why}")
        return Outcome(bot=True)
    if age is None:
        note(code="FORM_EXPIRED", message=EXPIRED)
        return Outcome(form_errors=[EXPIRED])
    data, data_names = lead_input(submission, settings, origin.name, context)
    problems = missing(submission, settings)
    try:
        if problems:
            # Report the pipeline's findings together with the empty required fields.
            _check_only(origin, funnel, data)
            raise ValidationFailed([])
        registration = register(origin, data, context)
    except ValidationFailed as error:
        found = [*problems, *error.errors]
        errors, general = errors_by_input(found, settings, data_names)
        note(
            code=error.code,
            message=error.message,
            errors=[{"field": e.field, "message": e.message} for e in found],
        )
        return Outcome(errors=errors, form_errors=general)
    except Duplicate as error:
        name = error.identifier if any(f.name == error.identifier for f in settings.fields) else ""
        message = f"This {error.identifier.replace('_', ' ')} is already registered."
        note(code=error.code, message=message)
        return Outcome(errors={name: message}) if name else Outcome(form_errors=[message])
    except (FunnelClosed, NotFound) as error:
        note(code=error.code, message=error.message)
        return Outcome(closed=error)
    except RegistrationError as error:
        note(code=error.code, message=error.message)
        return Outcome(form_errors=[error.message])
    note(lead_id=registration.lead.id, created=registration.created)
    return Outcome(registration=registration)


def _check_only(origin: Origin, funnel: Funnel, data: LeadInput) -> None:
    """Run the pipeline's validation without registering (raises `ValidationFailed`)."""
    workspace = db.session.get(Workspace, origin.workspace_id)
    assert workspace is not None
    clean(data, workspace, funnel, current_app.config.get("WEBHOOK_ALLOW_PRIVATE", False))
