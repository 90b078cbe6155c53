"""Bulk actions on the leads ticked in the list: set status, add tag, export, erase."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from flask import flash, g, make_response, redirect, render_template, request, url_for
from jinja2_fragments.flask import render_block
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from leadsite import values
from leadsite.backoffice import bp
from leadsite.backoffice.downloads import csv_download
from leadsite.backoffice.lead_views import ListArgs
from leadsite.extensions import db
from leadsite.htmx import is_htmx
from leadsite.leads import export as lead_export
from leadsite.leads import statuses as lead_statuses
from leadsite.leads.changes import erase_lead, lock_leads, update_lead
from leadsite.leads.sort import sorted_leads
from leadsite.models import Lead, Origin
from leadsite.values import MAX_TAG, MAX_TAGS

MAX_SELECTED = 1000
CONFIRM_TEMPLATE = "backoffice/leads/bulk_erase.html"
NOTHING_SELECTED = "Tick at least one lead first (the boxes in the first column)."
TOO_MANY = f"Select at most {MAX_SELECTED:,} leads at a time."


def _selected_ids(name: str = "lead") -> list[str]:
    return list(dict.fromkeys(request.form.getlist(name)))


def _selected(name: str = "lead") -> list[Lead]:
    """The ticked leads of this workspace that are not erased; other ids are ignored."""
    ids = _selected_ids(name)
    if not ids:
        return []
    return list(
        db.session.scalars(
            db.select(Lead)
            .filter(
                Lead.workspace_id == g.workspace.id,
                Lead.id.in_(ids),
                Lead.erased_at.is_(None),
            )
            .order_by(Lead.created_at.desc(), Lead.id.desc())
        )
    )


def _still_there(leads: list[Lead]) -> list[Lead]:
    """The leads locked and read afresh, less those erased since they were selected (another
    request erased them while this one waited for their locks)."""
    lock_leads(leads)
    return [lead for lead in leads if lead.erased_at is None]


def _return_to() -> str:
    """The list the form came from, with its filters; only ever the leads list itself."""
    index = url_for("backoffice.leads_index")
    target = values.url_parts(request.form.get("return_to", ""))
    if target is None or target.scheme or target.netloc or target.path != index:
        return index
    return f"{index}?{target.query}" if target.query else index


def _origin_names(leads: list[Lead]) -> dict[str | None, str]:
    ids = {lead.origin_id for lead in leads if lead.origin_id}
    if not ids:
        return {}
    rows = db.session.execute(db.select(Origin.id, Origin.name).filter(Origin.id.in_(ids)))
    return {row.id: row.name for row in rows}


def _answer(
    message: str,
    category: str = "success",
    changed: list[Lead] | None = None,
    erased: list[Lead] | None = None,
    status: int = 200,
    emptied: bool | None = None,
) -> Response:
    """htmx: rows changed in place, erased rows removed, the message; else back to the list."""
    if not is_htmx():
        flash(message, category)
        return redirect(_return_to(), code=303)
    problem = message if category == "error" else None
    if problem is None:
        flash(message, category)
    changed = changed or []
    body = render_template(
        "backoffice/leads/_bulk_result.html",
        problem=problem,
        changed=changed,
        erased=erased or [],
        emptied=emptied,
        origin_names=_origin_names(changed),
    )
    response = make_response(body + render_template("_flash.html", oob=True), status)
    response.vary.add("HX-Request")
    return response


def _set_status(leads: list[Lead], raw: str) -> Response:
    try:
        status = lead_statuses.known(g.workspace.id, raw)
    except values.Invalid as error:
        return _answer(f"Status {error}.", "error", status=422)
    if not status:
        return _answer("Type the status to set, like “contacted”.", "error", status=422)
    leads = _still_there(leads)
    changed = [lead for lead in leads if lead.status != status]
    for lead in changed:
        update_lead(lead, {"status": status}, g.workspace.default_country)
    db.session.commit()
    return _answer(f"Status “{status}” set on {len(changed)} of {len(leads)} leads.", changed=leads)


def _add_tag(leads: list[Lead], raw: str) -> Response:
    try:
        tag = values.text(raw, MAX_TAG)
    except values.Invalid as error:
        return _answer(f"A tag {error}.", "error", status=422)
    if not tag or "," in tag:
        return _answer("Type one tag to add (without commas).", "error", status=422)
    leads = _still_there(leads)  # their tags as they are now: a registration may have added some
    full = [lead for lead in leads if tag not in lead.tags and len(lead.tags) >= MAX_TAGS]
    changed = [lead for lead in leads if tag not in lead.tags and lead not in full]
    for lead in changed:
        update_lead(lead, {"tags": [*lead.tags, tag]}, g.workspace.default_country)
    db.session.commit()
    message = f"Tag “{tag}” added to {len(changed)} of {len(leads)} leads."
    if full:
        message += f" {len(full)} already had {MAX_TAGS} tags, the most a lead may have."
    return _answer(message, changed=leads)


def _confirm_erase(leads: list[Lead]) -> Response:
    """Say what erasing does and ask again: a panel above the list, or a page of its own."""
    inline = is_htmx()
    context = {"leads": leads, "inline": inline, "return_to": _return_to()}
    if inline:
        body = render_block(CONFIRM_TEMPLATE, "bulk_erase_confirm", **context)
    else:
        body = render_template(CONFIRM_TEMPLATE, **context)
    response = make_response(body)
    response.vary.add("HX-Request")
    return response


def _erase(leads: list[Lead]) -> Response:
    leads = _still_there(leads)
    for lead in leads:
        erase_lead(lead)
    db.session.commit()
    noun = "lead" if len(leads) == 1 else "leads"
    return _answer(
        f"Personal data of {len(leads)} {noun} erased; their anonymous records stay.",
        erased=leads,
        emptied=_list_emptied() if is_htmx() else None,
    )


def _list_emptied() -> bool | None:
    """After an erase, whether the list the form came from has no lead left: None while it has
    some, else whether it was filtered (which empty state to show). Without it the erased rows
    went and left the table's header alone on the page."""
    view = ListArgs.from_args(MultiDict(parse_qsl(urlsplit(_return_to()).query)))
    page = sorted_leads(
        g.workspace.id, view.filters, view.sort, limit=1, country=g.workspace.default_country
    )
    return None if page.rows else view.filters.active


@bp.post("/leads/bulk")
def leads_bulk() -> Response:
    """Apply the chosen action to the ticked leads (at most 1,000 at a time).

    Erasing asks first: the answer is a confirmation naming the leads, whose button posts
    again with `erase_confirmed` and the ids it showed.
    """
    if max(len(_selected_ids()), len(_selected_ids("confirm_lead"))) > MAX_SELECTED:
        return _answer(TOO_MANY, "error", status=422)
    if request.form.get("erase_confirmed"):
        leads = _selected("confirm_lead")
        return _erase(leads) if leads else _answer(NOTHING_SELECTED, "error", status=422)
    leads = _selected()
    if not leads:
        return _answer(NOTHING_SELECTED, "error", status=422)
    action, value = request.form.get("action", ""), request.form.get("value", "")
    if action == "status":
        return _set_status(leads, value)
    if action == "tag":
        return _add_tag(leads, value)
    if action == "erase":
        return _confirm_erase(leads)
    return _answer("Choose what to do with the selected leads.", "error", status=422)


@bp.post("/leads/export/selected")
def leads_export_selected() -> Response:
    """The ticked leads as CSV, streamed like the whole list's export."""
    ids = _selected_ids()
    if not ids or len(ids) > MAX_SELECTED:
        flash(TOO_MANY if ids else NOTHING_SELECTED, "error")
        return redirect(_return_to(), code=303)
    return csv_download(lead_export.export_selected(g.workspace.id, ids), "leads-selected")
