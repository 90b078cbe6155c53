"""Handle a posted public form: its token, then the registration pipeline (or, for what looks
like a bot's, a held lead), then what to show."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext

from leadsite.api.ingest import note
from leadsite.extensions import db
from leadsite.models import FormEvent, Funnel, IngestOutcome, Lead, Origin, Workspace
from leadsite.public.beacon import count_form
from leadsite.public.fields import FormSettings
from leadsite.public.once import use_form_token
from leadsite.public.submission import Submission, errors_by_input, lead_input, missing
from leadsite.public.tokens import FormToken, read_form_token
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
from leadsite.registration.held import hold
from leadsite.registration.validate import clean

log = logging.getLogger(__name__)

EXPIRED = lazy_gettext(
    "This form was open for a long time, so we could not accept it yet. Everything you typed "
    "is still here: check it and send it again."
)
USED = lazy_gettext(
    "This form was sent already. Everything you typed is still here: to send it once more, "
    "check it and send it again."
)
# By the identifier a duplicate was found by (the registration's `Duplicate.identifier`).
ALREADY_REGISTERED = {
    "email": lazy_gettext("This email is already registered."),
    "phone": lazy_gettext("This phone is already registered."),
    "unique_id": lazy_gettext("This unique id is already registered."),
}
DEFAULT_MIN_FILL_SECONDS = 2.0
DIALECT = "form"  # the hosted page's and the embed form's calls in the ingestion log


@dataclass
class Outcome:
    """What came of a submission: a registration, a held lead, errors to show, a closed funnel."""

    registration: Registration | None = None
    held: Lead | None = None
    errors: dict[str, str] = field(default_factory=dict)  # by input name
    form_errors: list[str] = field(default_factory=list)
    closed: RegistrationError | None = None
    status: int | None = None  # of the form sent back with errors; by default 422 or 400
    # When the lead first got the form: a form sent back keeps measuring the fill time from it.
    opened_at: float | None = None

    @property
    def failed(self) -> bool:
        return bool(self.errors or self.form_errors)


def min_fill_seconds() -> float:
    return float(current_app.config.get("PUBLIC_FORM_MIN_FILL_SECONDS", DEFAULT_MIN_FILL_SECONDS))


def bot_reason(submission: Submission, token: FormToken) -> str | None:
    """Why the submission looks like a bot's, or None. Either can be a person's browser (autofill
    fills a form at once, and sometimes the hidden field too), so such submissions are held,
    never dropped."""
    if submission.honeypot:
        return "the hidden field meant for bots was filled"
    if token.age < min_fill_seconds():
        return f"sent {max(token.age, 0):.1f} s after the form was shown"
    return None


def submit(
    origin: Origin,
    funnel: Funnel,
    settings: FormSettings,
    submission: Submission,
    context: RegistrationContext,
) -> Outcome:
    """Register the submission through the pipeline, or hold it when it looks like a bot's.

    The form's token is good for one submission: it is spent once the values pass the form's
    own checks, and a form sent back with errors carries a fresh one."""
    note(dialect=DIALECT, origin_id=origin.id, workspace_id=origin.workspace_id)
    count_form(origin, submission.attribution, FormEvent.SUBMIT)
    token = read_form_token(submission.token, origin.ref)
    if token is None:
        note(code="FORM_EXPIRED", message=str(EXPIRED))
        return Outcome(form_errors=[str(EXPIRED)])
    opened = token.issued_at
    region = workspace_region(origin)
    data, data_names = lead_input(submission, settings, origin.name, context, region)
    problems = missing(submission, settings, region=region)
    try:
        if problems:
            # Report the pipeline's findings together with the empty required fields.
            check_only(origin, funnel, data)
            raise ValidationFailed([])
        if not use_form_token(token):
            note(code="FORM_USED", message=str(USED))
            return Outcome(form_errors=[str(USED)], status=409, opened_at=opened)
        reason = bot_reason(submission, token)
        if reason is not None:
            held = hold(origin, data, context, reason)
            count_form(origin, submission.attribution, FormEvent.HELD)
            note(
                code="HELD",
                lead_id=held.id,
                outcome=IngestOutcome.HELD,
                message=f"Held for staff to accept or delete: {reason}",
            )
            return Outcome(held=held)
        registration = register(origin, data, context)
    except ValidationFailed as error:
        found = [*problems, *error.errors]
        errors, general = errors_by_input(found, settings, data_names)
        count_form(origin, submission.attribution, FormEvent.INVALID, list(errors))
        note(
            code=error.code,
            message=error.message,
            errors=[{"field": e.field, "message": e.message} for e in found],
        )
        return Outcome(errors=errors, form_errors=general, opened_at=opened)
    except Duplicate as error:
        name = error.identifier if any(f.name == error.identifier for f in settings.fields) else ""
        message = str(ALREADY_REGISTERED.get(error.identifier) or _("This is already registered."))
        note(code=error.code, message=message)
        count_form(origin, submission.attribution, FormEvent.INVALID, [name])
        if name:
            return Outcome(errors={name: message}, opened_at=opened)
        return Outcome(form_errors=[message], opened_at=opened)
    except (FunnelClosed, NotFound) as error:
        note(code=error.code, message=error.message)
        return Outcome(closed=error)
    except RegistrationError as error:
        note(code=error.code, message=error.message)
        return Outcome(form_errors=[error.message], opened_at=opened)
    note(lead_id=registration.lead.id, created=registration.created)
    return Outcome(registration=registration)


def check_only(origin: Origin, funnel: Funnel, data: LeadInput) -> None:
    """Run the pipeline's validation without registering (raises `ValidationFailed`)."""
    workspace = db.session.get(Workspace, origin.workspace_id)
    assert workspace is not None
    clean(data, workspace, funnel, current_app.config.get("WEBHOOK_ALLOW_PRIVATE", False))


def workspace_region(origin: Origin) -> str | None:
    """The country the form's phone numbers without a country code are read in."""
    workspace = db.session.get(Workspace, origin.workspace_id)
    return workspace.default_country if workspace is not None else None
