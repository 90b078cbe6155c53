"""The email activity editor's helpers: a preview rendered on a chosen lead, and "Send me a test".

Both read the activity form as typed (saved or not) and hold no write lock while the staff
template renders (they are in `OWN_WRITE_LOCK`); the test takes it only to queue the email.
"""

from __future__ import annotations

from flask import abort, g, request
from flask_login import current_user
from werkzeug.wrappers import Response

from leadsite.backoffice import bp
from leadsite.backoffice.funnel_activities import activity_options
from leadsite.backoffice.funnel_activity_forms import FORMS, ActivityForm
from leadsite.backoffice.funnel_changes import find_stage
from leadsite.backoffice.funnel_edit import funnel_or_404
from leadsite.database import begin_write_transaction
from leadsite.extensions import db
from leadsite.htmx import render_page_or_block
from leadsite.journeys.email_preview import (
    PREVIEW_KINDS,
    Preview,
    find_preview_journey,
    queue_test_email,
    render_preview,
)
from leadsite.models import Funnel, Stage

TEMPLATE = "backoffice/funnels/email_preview.html"


def _posted_form() -> ActivityForm:
    """The activity form as typed, validated (its errors are shown with the preview)."""
    kind = request.form.get("preview_kind", "")
    if kind not in PREVIEW_KINDS:
        abort(400, "Only email activities have a preview.")
    form = FORMS[kind](options=activity_options())
    form.validate()
    if form.csrf_token.errors:
        abort(400, "The form expired: reload the page and try again.")
    return form


def _template_errors(form: ActivityForm) -> list[str]:
    fields = getattr(form, "template_fields", ())
    return [error for name in fields for error in getattr(form, name).errors]


def _answer(
    funnel: Funnel, stage: Stage, form: ActivityForm, preview: Preview, sent_to: str = ""
) -> Response:
    errors = _template_errors(form)
    status = 422 if preview.problem or (errors and not preview.email) else 200
    return render_page_or_block(
        TEMPLATE,
        "email_preview",
        status=status,
        funnel=funnel,
        stage=stage,
        preview=preview,
        warnings=errors,
        sent_to=sent_to,
    )


def _render(funnel_id: str, stage_id: str) -> tuple[Funnel, Stage, ActivityForm, Preview]:
    funnel = funnel_or_404(funnel_id)
    stage = find_stage(funnel, stage_id)
    if stage is None:
        abort(404)
    form = _posted_form()
    journey = find_preview_journey(funnel, request.form.get("preview_journey"))
    title = form.title.data or "Email"
    preview = render_preview(form.kind, form.config(), title, funnel, stage.name, journey)
    return funnel, stage, form, preview


@bp.post("/funnels/edit/<funnel_id>/stages/<stage_id>/email-preview")
def activity_email_preview(funnel_id: str, stage_id: str) -> Response:
    """The email the activity form as typed would send, rendered on the chosen lead's journey
    (or a made-up lead): subject, text, and the HTML in a sandboxed frame. Nothing is saved."""
    funnel, stage, form, preview = _render(funnel_id, stage_id)
    return _answer(funnel, stage, form, preview)


@bp.post("/funnels/edit/<funnel_id>/stages/<stage_id>/email-test")
def activity_email_test(funnel_id: str, stage_id: str) -> Response:
    """Send the previewed email to the signed-in staff member through the outbox; refused
    (422) while a template names an unknown variable or cannot be rendered."""
    funnel, stage, form, preview = _render(funnel_id, stage_id)
    if preview.email is None or _template_errors(form):
        return _answer(funnel, stage, form, preview)
    to, workspace_id = current_user.email, g.workspace.id
    db.session.rollback()  # end the read (SQLite refuses a write after a stale read)
    begin_write_transaction()
    queue_test_email(workspace_id, to, preview.email)
    db.session.commit()
    return _answer(funnel, stage, form, preview, sent_to=to)
