"""The email activity editor's helpers: a preview rendered on a chosen lead, and "Send me a test".

Both read the activity form as typed (saved or not) and hold no write lock while the staff
template renders (they are in `OWN_WRITE_LOCK`); the test takes it only to queue the email,
and reads the membership again once it has it (`members_write_turn`).
"""

from __future__ import annotations

from flask import abort, g, make_response, request, url_for
from flask_login import current_user
from markupsafe import escape
from werkzeug.wrappers import Response

from leadsite.backoffice import bp
from leadsite.backoffice.funnel_activities import activity_options
from leadsite.backoffice.funnel_activity_forms import FORMS, ActivityForm
from leadsite.backoffice.funnel_changes import find_stage
from leadsite.backoffice.funnel_edit import funnel_or_404
from leadsite.backoffice.workspace import members_write_turn
from leadsite.extensions import db
from leadsite.htmx import is_htmx, render_page_or_block
from leadsite.journeys.email_preview import (
    PREVIEW_KINDS,
    Preview,
    find_preview_journey,
    queue_test_email,
    render_preview,
)
from leadsite.models import Funnel, Stage
from leadsite.security import allow_framing_by, frameable

TEMPLATE = "backoffice/funnels/email_preview.html"
# What the preview frame's page may do: show the email's inline styles and images, run nothing,
# be framed by our own pages only.
FRAME_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; "
    "frame-ancestors 'self'; sandbox"
)
# The form fields the preview's frame posts again to load the HTML version.
ECHOED = (
    "preview_kind",
    "preview_journey",
    "activity-title",
    "activity-subject",
    "activity-body",
    "activity-note",
)


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
    """The preview with the template errors above it: 422 when it cannot be rendered, or when
    it was to be sent and was not."""
    errors = _template_errors(form)
    refused = preview.problem or (errors and request.endpoint.endswith("_test"))
    return render_page_or_block(
        TEMPLATE,
        "email_preview",
        status=422 if refused else 200,
        funnel=funnel,
        stage=stage,
        preview=preview,
        warnings=errors,
        sent_to=sent_to,
        echoed={name: request.form[name] for name in ECHOED if name in request.form},
        inline=is_htmx(),
        html_url=url_for(
            "backoffice.activity_email_preview_html", funnel_id=funnel.id, stage_id=stage.id
        ),
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


@bp.post("/funnels/edit/<funnel_id>/stages/<stage_id>/email-preview/html")
@frameable
def activity_email_preview_html(funnel_id: str, stage_id: str) -> Response:
    """The HTML version alone, for the preview's sandboxed frame (the editor's page forbids the
    inline styles an email needs; this page allows them and nothing else)."""
    _, _, _, preview = _render(funnel_id, stage_id)
    allow_framing_by(["'self'"])
    body = preview.email.html if preview.email else f"<p>{escape(preview.problem or '')}</p>"
    response = make_response(body, 200 if preview.email else 422)
    response.headers["Content-Security-Policy"] = FRAME_POLICY
    return response


@bp.post("/funnels/edit/<funnel_id>/stages/<stage_id>/email-test")
def activity_email_test(funnel_id: str, stage_id: str) -> Response:
    """Send the previewed email to the signed-in staff member through the outbox; refused
    (422) while a template names an unknown variable or cannot be rendered."""
    funnel, stage, form, preview = _render(funnel_id, stage_id)
    if preview.email is None or _template_errors(form):
        return _answer(funnel, stage, form, preview)
    to, workspace_id = current_user.email, g.workspace.id
    db.session.rollback()  # end the read (SQLite refuses a write after a stale read)
    if refused := members_write_turn():
        return refused
    queue_test_email(workspace_id, to, preview)
    db.session.commit()
    return _answer(funnel, stage, form, preview, sent_to=to)
