"""The "New lead" form: staff register a lead through the funnel's back-office origin."""

from __future__ import annotations

from urllib.parse import parse_qsl

from flask import flash, g, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from leadsite import values
from leadsite.backoffice import bp
from leadsite.backoffice.lead_forms import NewLeadForm, add_errors, duplicate_message, new_lead_form
from leadsite.backoffice.lead_views import COLUMNS, ListArgs
from leadsite.data_points import workspace_data_points
from leadsite.extensions import db
from leadsite.htmx import is_htmx
from leadsite.leads.search import LeadPage
from leadsite.leads.sort import SORTABLE_COLUMNS
from leadsite.leads.staff_origins import open_funnels, staff_origin
from leadsite.models import Funnel, Lead, OnDuplicate, OriginKind
from leadsite.registration import (
    Duplicate,
    FunnelClosed,
    JourneyDataInput,
    LeadInput,
    NotFound,
    Registration,
    RegistrationContext,
    ValidationFailed,
    register,
)

TEMPLATE = "backoffice/leads/new.html"
CLOSED = "This funnel no longer takes registrations. Choose another, or open it in Funnels."
SWITCHED_OFF = "This funnel's back-office origin is switched off. Switch it on in the funnel."


def _form_response(form: NewLeadForm, status: int = 200) -> Response:
    """The form alone for htmx (inline in the list), or the whole page."""
    inline = is_htmx()
    template_args = {"form": form, "inline": inline}
    if inline:
        body = render_block(TEMPLATE, "lead_new_form", **template_args)
        body += render_template("_flash.html", oob=True)
    else:
        body = render_template(TEMPLATE, **template_args)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def _lead_input(form: NewLeadForm) -> tuple[LeadInput, dict[str, str]]:
    """What staff typed, as the pipeline's input; blanks are left out. Also the field names
    the pipeline's journey data errors refer to."""

    def value(name: str) -> str | None:
        return form[name].data or None

    journey_data, aliases = [], {}
    for point, field in form.point_fields:
        if field.data not in (None, ""):
            index = len(journey_data)
            aliases[f"journey_data[{index}].value"] = field.name
            aliases[f"journey_data[{index}].name"] = field.name
            journey_data.append(JourneyDataInput(point.name, field.data))
    lead_input = LeadInput(
        email=value("email"),
        phone=value("phone"),
        first_name=value("first_name"),
        last_name=value("last_name"),
        unique_id=value("unique_id"),
        address=value("address"),
        status=value("status"),
        tags=value("tags"),
        opt_in=True if form.opt_in.data else None,  # unticked leaves an existing opt-in alone
        journey_data=journey_data,
    )
    return lead_input, aliases


def _current_view() -> ListArgs:
    """The list the htmx request came from (its address is in HX-Current-URL): its filters,
    sort and columns."""
    url = values.url_parts(request.headers.get("HX-Current-URL", ""))
    if url is None or url.path != url_for("backoffice.leads_index"):
        return ListArgs.from_args(MultiDict())
    return ListArgs.from_args(MultiDict(parse_qsl(url.query)))


def _registered(registration: Registration, origin_name: str) -> Response:
    """After success: the row goes to the top of the list and the form closes (htmx), or the
    browser goes back to the list, where the new lead is first."""
    lead = registration.lead
    if registration.created:
        flash(f"Lead “{lead.display_name}” created.", "success")
    else:
        flash(f"{lead.display_name} was already a lead: their record was updated.", "success")
    if not is_htmx():
        return redirect(url_for("backoffice.leads_index"))
    view = _current_view()
    # When the list was empty it has no table yet: the first row comes with the table around it.
    list_html = render_block(
        "backoffice/leads/index.html",
        "lead_list",
        view=view,
        filters=view.filters,
        columns=COLUMNS,
        sortable=SORTABLE_COLUMNS,
        page=LeadPage(rows=[(lead, origin_name)], next_cursor=None),
        after=None,
        next_url=None,
    )
    body = render_template(
        "backoffice/leads/_new_created.html",
        lead=lead,
        origin_name=origin_name,
        created=registration.created,
        list_html=Markup(list_html),
    )
    response = make_response(body + render_template("_flash.html", oob=True))
    response.vary.add("HX-Request")
    return response


@bp.route("/leads/new", methods=["GET", "POST"])
def lead_new() -> Response:
    """Register a lead by hand, through the chosen funnel's back-office origin.

    htmx shows the form inline above the list and answers 422 with the form and its errors;
    without JavaScript this is a page of its own that goes back to the list.
    """
    points = workspace_data_points(g.workspace.id, archived=False)
    form = new_lead_form(open_funnels(g.workspace.id), points)
    if not form.validate_on_submit():
        return _form_response(form, 422 if request.method == "POST" else 200)
    funnel = db.session.get(Funnel, form.funnel.data)
    assert funnel is not None and funnel.workspace_id == g.workspace.id  # one of the choices
    origin = staff_origin(funnel, OriginKind.BACKOFFICE)
    origin_name = origin.name
    db.session.commit()  # a new origin stays even if this registration is refused
    lead_input, aliases = _lead_input(form)
    # A known lead is updated only when staff chose to: the form offers it on a duplicate.
    context = RegistrationContext(
        actor_id=current_user.id, reject_duplicates=not form.update_existing.data
    )
    try:
        registration = register(origin, lead_input, context)
    except ValidationFailed as error:
        add_errors(form, error.errors, aliases)
    except Duplicate as error:
        form[error.identifier].errors = [duplicate_message(error.identifier)]
        existing = db.session.get(Lead, error.existing_lead_id)
        form.duplicate_of = error.existing_lead_id
        form.duplicate_name = existing.display_name if existing is not None else ""
        form.may_update = funnel.on_duplicate != OnDuplicate.REJECT
    except FunnelClosed:
        form.funnel.errors = [CLOSED]
    except NotFound:
        form.funnel.errors = [SWITCHED_OFF]
    else:
        return _registered(registration, origin_name)
    return _form_response(form, 422)
