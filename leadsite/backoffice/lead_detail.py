"""The lead page: every field of a lead, edited in place one section at a time."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import flash, g, make_response, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from jinja2_fragments.flask import render_block
from werkzeug.wrappers import Response

from leadsite.backoffice import bp
from leadsite.backoffice.forms import EmptyForm
from leadsite.backoffice.lead_forms import (
    ConsentForm,
    ContactForm,
    StatusForm,
    add_errors,
    duplicate_message,
)
from leadsite.backoffice.lead_page import lead_or_404, page_context
from leadsite.errors import error_page
from leadsite.extensions import db
from leadsite.htmx import is_htmx
from leadsite.leads import statuses as lead_statuses
from leadsite.leads.changes import LeadErased, update_lead
from leadsite.models import Lead
from leadsite.registration import Duplicate, FieldError, ValidationFailed

TEMPLATE = "backoffice/leads/detail.html"
SECTION = "<any(contact, status, consent, custom):section>"
ERASED = "This lead's personal data was erased: there is nothing to edit."
MAX_KEY, MAX_VALUE = 64, 2000


@dataclass(frozen=True)
class Section:
    form: type[FlaskForm]
    fields: tuple[str, ...]


SECTIONS = {
    "contact": Section(
        ContactForm, ("first_name", "last_name", "email", "phone", "unique_id", "address")
    ),
    "status": Section(StatusForm, ("status", "tags")),
    "consent": Section(ConsentForm, ("opt_in", "sms_opt_in")),
    "custom": Section(EmptyForm, ()),  # key/value rows, read by `_custom_changes`
}


def respond(
    lead: Lead,
    block: str,
    status: int = 200,
    oob: Iterable[str] = (),
    **context: Any,
) -> Response:
    """The whole lead page, or for htmx `block` plus the `oob` blocks and the flash messages."""
    context = {"editing": None, **page_context(lead), **context}
    if is_htmx():
        body = render_block(TEMPLATE, block, **context)
        body += "".join(render_block(TEMPLATE, name, oob_swap=True, **context) for name in oob)
        body += render_template("_flash.html", oob=True)
    else:
        body = render_template(TEMPLATE, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def _block(section: str) -> str:
    return f"lead_{section}"


def _split_tags(text: str | None) -> list[str]:
    return list(dict.fromkeys(tag.strip() for tag in (text or "").split(",") if tag.strip()))


def _initial(section: str, lead: Lead) -> dict[str, Any]:
    if section == "status":
        return {"status": lead.status, "tags": ", ".join(lead.tags or [])}
    return {name: getattr(lead, name) for name in SECTIONS[section].fields}


def _changes(section: str, form: FlaskForm, lead: Lead) -> dict[str, Any]:
    """The fields whose submitted value differs from the lead's, as `update_lead` takes them."""
    changes: dict[str, Any] = {}
    for name in SECTIONS[section].fields:
        value, current = form[name].data, getattr(lead, name)
        if name == "tags":
            value, current = _split_tags(value), list(current or [])
        elif isinstance(value, bool):
            current = bool(current)
        else:  # text: empty means none
            value, current = value or None, current or None
        if value != current:
            changes[name] = value
    return changes


def _shown(value: Any) -> str:
    """A custom field's value as the form shows it."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def custom_rows(lead: Lead) -> list[tuple[str, str]]:
    return [(key, _shown(value)) for key, value in (lead.custom_fields or {}).items()]


def _custom_changes(lead: Lead) -> tuple[list[tuple[str, str]], dict[str, Any], list[str]]:
    """The submitted key/value rows, the custom fields they make, and what is wrong with them.

    An emptied value removes its field; an unchanged one keeps its type (a number stays one).
    """
    keys, values = request.form.getlist("key"), request.form.getlist("value")
    rows = [(k.strip(), v.strip()) for k, v in zip(keys, values, strict=False)]
    current = lead.custom_fields or {}
    fields: dict[str, Any] = {}
    errors = []
    for key, value in rows:
        name = key.lower()
        if not name and value:
            errors.append(f"Give the field holding “{value[:40]}” a name.")
        elif len(name) > MAX_KEY or len(value) > MAX_VALUE:
            errors.append(f"Names are at most {MAX_KEY} characters, values {MAX_VALUE}.")
        elif name in fields:
            errors.append(f"“{name}” is listed twice.")
        elif name and value:
            unchanged = name in current and _shown(current[name]) == value
            fields[name] = current[name] if unchanged else value
    return rows, fields, errors


def status_choices(lead: Lead) -> list[tuple[str, str]]:
    """The workspace's statuses by name, in order; a status the lead holds that the workspace
    no longer has stays on the list, so that opening the form changes nothing."""
    choices = [(status.key, status.name) for status in lead_statuses.statuses(lead.workspace_id)]
    if lead.status and lead.status not in {key for key, _ in choices}:
        choices.insert(0, (lead.status, lead.status))
    return choices


@bp.get("/leads/<not(views, bulk):lead_id>")
def lead_detail(lead_id: str) -> Response:
    """One lead: its fields, journeys, timeline and deliveries."""
    return respond(lead_or_404(lead_id), "lead_page")


@bp.get(f"/leads/<lead_id>/{SECTION}")
def lead_section(lead_id: str, section: str) -> Response:
    """A section of the lead page as shown (htmx: after Cancel); the page without htmx."""
    return respond(lead_or_404(lead_id), _block(section))


@bp.route(f"/leads/<lead_id>/{SECTION}/edit", methods=["GET", "POST"])
def lead_section_edit(lead_id: str, section: str) -> Response:
    """Edit one section in place: the form, then the section as shown again once saved.

    A refused value answers 422 with the form, what was typed, and the reason on its field.
    Without JavaScript the page shows this section as a form and redirects back once saved.
    """
    lead = lead_or_404(lead_id)
    if lead.erased_at is not None:
        return error_page(409, ERASED)
    spec, block = SECTIONS[section], _block(section)
    form = spec.form(data=_initial(section, lead)) if request.method == "GET" else spec.form()
    if section == "status":
        form.status.choices = status_choices(lead)
    rows = custom_rows(lead) if section == "custom" and request.method == "GET" else None
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return respond(lead, block, status, editing=section, form=form, custom_rows=rows)
    if section == "custom":
        rows, fields, problems = _custom_changes(lead)
        form.form_errors.extend(problems)
        changes = {} if problems or fields == lead.custom_fields else {"custom_fields": fields}
    else:
        changes = _changes(section, form, lead)
    if not form.form_errors and changes:
        try:
            update_lead(lead, changes, g.workspace.default_country)
        except ValidationFailed as error:
            add_errors(form, error.errors)
        except Duplicate as error:
            add_errors(form, [FieldError(error.identifier, duplicate_message(error.identifier))])
            form.duplicate_of = error.existing_lead_id
        except LeadErased:  # erased while this waited for the lead: as if erased before
            db.session.rollback()
            return error_page(409, ERASED)
    if form.errors:
        db.session.rollback()
        return respond(lead, block, 422, editing=section, form=form, custom_rows=rows)
    if changes:
        db.session.commit()
        flash("Saved.", "success")
    if not is_htmx():
        return redirect(url_for("backoffice.lead_detail", lead_id=lead.id) + f"#lead-{section}")
    return respond(lead, block, oob=("lead_head", "lead_timeline"))
