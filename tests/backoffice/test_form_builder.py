"""The form builder posted as a browser without JavaScript posts it: add a field of each type,
move and remove fields without saving, conditions and steps saved in the shape the public
form reads, refused with a message on the row, and the preview of what is not saved yet."""

from __future__ import annotations

import html
import re

import pytest

from leadsite.backoffice.form_builder import field_name
from leadsite.extensions import db
from leadsite.models import DataPointType, OriginKind, Workspace
from leadsite.public.fields import form_settings
from tests import factories
from tests.backoffice.test_funnel_origins import HTMX, _builder, _post, _sign_in

DEFAULT_ROWS = [
    {"name": "first_name", "shown": True},
    {"name": "last_name", "shown": True},
    {"name": "email", "shown": True, "required": True},
]


def _page_origin(auth, ws: Workspace | None = None):
    ws = _sign_in(auth, ws)
    funnel = factories.funnel(ws)
    origin = factories.origin(funnel, OriginKind.PAGE)
    return origin, f"/p/funnels/edit/{funnel.id}/origins/{origin.id}"


def _rows(body: str) -> list[str]:
    """The builder's rows in the order shown."""
    return re.findall(r'class="builder-item[^"]*" data-name="([^"]+)"', body)


@pytest.mark.parametrize(
    ("kind", "label", "name"),
    [
        ("text", "Company", "custom.company"),
        ("email", "Billing email", "custom.billing_email"),
        ("phone", "Office phone", "custom.office_phone"),
        ("number", "Seats", "custom.seats"),
        ("choice", "Team size", "custom.team_size"),
        ("checkbox", "Send invoices", "custom.send_invoices"),
        ("date", "Start date", "custom.start_date"),
        ("consent", "I agree to the terms.", "consent.i_agree_to_the_terms"),
    ],
)
def test_add_field_appends_a_row_of_its_type_without_saving(client, auth, kind, label, name):
    origin, path = _page_origin(auth)

    response = _post(
        client, path, _builder(DEFAULT_ROWS, new_type=kind, new_label=label, builder="add")
    )

    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert _rows(body)[-1] == name
    assert f'name="rows-3-type" type="hidden" value="{kind}"' in body
    label = re.search(r'<(?:input|textarea)[^>]*id="rows-3-label"[^>]*>', body).group(0)
    assert "autofocus" in label  # the new row's label, to type in at once
    db.session.refresh(origin)
    assert origin.form_fields == []  # nothing saved until "Save origin"


def test_add_field_through_htmx_marks_the_label_to_focus_once(client, auth):
    """Swapped in by htmx, the new label is not `autofocus` (focused at the insert and again at
    the settle, undoing a Tab in between) but data-focus-on-swap, focused once by its script."""
    _, path = _page_origin(auth)

    response = _post(
        client,
        path,
        _builder(DEFAULT_ROWS, new_type="text", new_label="Team size", builder="add"),
        headers=HTMX,
    )

    assert response.status_code == 200
    body = response.get_data(as_text=True)
    label = re.search(r'<input[^>]*id="rows-3-label"[^>]*>', body).group(0)
    assert "data-focus-on-swap" in label
    assert "autofocus" not in body


def test_add_field_without_a_label_says_so_on_the_field(client, auth):
    _, path = _page_origin(auth)

    response = _post(client, path, _builder(DEFAULT_ROWS, new_type="text", builder="add"))

    assert response.status_code == 422
    assert "Write the label of the new field" in response.get_data(as_text=True)


def test_move_up_and_down_reorder_the_rows_and_keep_focus(client, auth):
    _, path = _page_origin(auth)

    up = _post(client, path, _builder(DEFAULT_ROWS, builder="up:email"))
    down = _post(client, path, _builder(DEFAULT_ROWS, builder="down:first_name"))

    assert _rows(up.get_data(as_text=True))[:3] == ["first_name", "email", "last_name"]
    assert re.search(r'value="up:email" data-move="up" autofocus', up.get_data(as_text=True))
    assert _rows(down.get_data(as_text=True))[:3] == ["last_name", "first_name", "email"]


def test_remove_takes_a_question_off_and_standard_fields_stay(client, auth):
    _, path = _page_origin(auth)
    rows = [*DEFAULT_ROWS, {"name": "custom.size", "type": "text", "shown": True, "label": "S"}]

    removed = _post(client, path, _builder(rows, builder="remove:custom.size"))
    kept = _post(client, path, _builder(rows, builder="remove:email"))

    assert "custom.size" not in _rows(removed.get_data(as_text=True))
    assert "email" in _rows(kept.get_data(as_text=True))


def test_conditions_steps_and_choices_are_saved_as_the_public_form_reads_them(client, auth):
    ws = factories.workspace()
    factories.data_point(ws, "plan", type=DataPointType.CHOICE, choices=["Starter", "Growth"])
    origin, path = _page_origin(auth, ws)
    rows = [
        {"name": "email", "shown": True, "required": True, "order": "1"},
        {
            "name": "custom.size",
            "type": "choice",
            "shown": True,
            "label": "Team size",
            "options": "1-10\n11+",
            "widget": "radios",
            "order": "2",
        },
        {
            "name": "custom.company",
            "type": "text",
            "shown": True,
            "label": "Company",
            "required": True,
            "when_field": "custom.size",
            "when_op": "one_of",
            "when_value": "11+, 1-10",
            "order": "3",
        },
        {"name": "data.plan", "shown": True, "widget": "radios", "step": True, "order": "4"},
        {
            "name": "consent.terms",
            "type": "consent",
            "shown": True,
            "label": "I agree.",
            "version": "v2",
            "required": True,
            "when_field": "data.plan",
            "when_op": "not_empty",
            "order": "5",
        },
    ]

    response = _post(client, path, _builder(rows), headers=HTMX)

    assert response.status_code == 200, html.unescape(response.get_data(as_text=True))
    db.session.refresh(origin)
    assert origin.form_fields[1:] == [
        {
            "custom": "size",
            "type": "choice",
            "label": "Team size",
            "required": False,
            "help": None,
            "options": ["1-10", "11+"],
            "widget": "radios",
        },
        {
            "custom": "company",
            "type": "text",
            "label": "Company",
            "required": True,
            "help": None,
            "when": {"field": "custom.size", "op": "one_of", "value": ["11+", "1-10"]},
        },
        {
            "data_point": "plan",
            "label": "Plan",
            "required": False,
            "help": None,
            "widget": "radios",
            "step": True,
        },
        {
            "consent": "terms",
            "label": "I agree.",
            "version": "v2",
            "required": True,
            "help": None,
            "when": {"field": "data.plan", "op": "not_empty"},
        },
    ]
    settings = form_settings(origin, origin.funnel)
    assert [(f.name, f.step, f.input) for f in settings.fields] == [
        ("email", 0, "email"),
        ("custom.size", 0, "radios"),
        ("custom.company", 0, "text"),
        ("data.plan", 1, "radios"),
        ("consent.terms", 1, "consent"),
    ]
    # Read back, the builder shows what it saved.
    page = client.get(path).get_data(as_text=True)
    assert _rows(page)[:5] == [
        "email",
        "custom.size",
        "custom.company",
        "data.plan",
        "consent.terms",
    ]
    assert 'name="rows-2-when_value" type="text" value="11+, 1-10"' in page


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            [
                {"name": "first_name", "shown": True, "when_field": "email", "when_op": "checked"},
                {"name": "email", "shown": True, "required": True},
            ],
            "A condition can only look at a shown field above it.",
        ),
        (
            [
                {"name": "first_name", "shown": True},
                {
                    "name": "email",
                    "shown": True,
                    "required": True,
                    "when_field": "first_name",
                    "when_op": "not_empty",
                },
            ],
            "The funnel's identifier is always asked: it cannot have a condition.",
        ),
        (
            [
                {"name": "first_name", "shown": True},
                {
                    "name": "last_name",
                    "shown": True,
                    "when_field": "first_name",
                    "when_op": "equals",
                },
                {"name": "email", "shown": True, "required": True},
            ],
            "Write the answer it depends on.",
        ),
        (
            [
                {"name": "email", "shown": True, "required": True},
                {"name": "custom.size", "type": "choice", "shown": True, "label": "Size"},
            ],
            "Write its options, one a line.",
        ),
        (
            [
                {"name": "email", "shown": True, "required": True},
                {
                    "name": "custom.news",
                    "type": "checkbox",
                    "shown": True,
                    "label": "News",
                    "required": True,
                },
            ],
            "A checkbox cannot be required: for a box that must be ticked, add a consent text.",
        ),
        (
            [
                {"name": "email", "shown": True, "required": True},
                {"name": "consent.terms", "type": "consent", "shown": True},
            ],
            "Write the text of the consent.",
        ),
        (
            [
                {"name": "email", "shown": True, "required": True},
                {"name": "custom.size", "type": "text", "shown": True, "label": "x" * 121},
            ],
            "Field cannot be longer than 120 characters.",
        ),
    ],
)
def test_a_bad_row_is_refused_with_its_message_on_the_row(client, auth, rows, message):
    origin, path = _page_origin(auth)

    response = _post(client, path, _builder(rows), headers=HTMX)

    assert response.status_code == 422
    body = html.unescape(response.get_data(as_text=True))
    assert message in body
    db.session.refresh(origin)
    assert origin.form_fields == []


def test_unknown_names_and_types_from_the_browser_are_ignored(client, auth):
    origin, path = _page_origin(auth)
    rows = [
        *DEFAULT_ROWS,
        {"name": "custom.Bad Key", "type": "text", "shown": True, "label": "A"},
        {"name": "custom.ok", "type": "file", "shown": True, "label": "B"},
        {"name": "data.missing", "shown": True},
    ]

    response = _post(client, path, _builder(rows), headers=HTMX)

    assert response.status_code == 200
    db.session.refresh(origin)
    assert [field_name(f) for f in origin.form_fields] == ["first_name", "last_name", "email"]


def test_the_preview_shows_what_is_not_saved_yet_every_step(client, auth):
    origin, path = _page_origin(auth)
    rows = [
        *DEFAULT_ROWS,
        {"name": "custom.budget", "type": "number", "shown": True, "label": "Budget"},
        {"name": "custom.when", "type": "date", "shown": True, "label": "When", "step": True},
    ]

    fragment = _post(client, f"{path}/preview", _builder(rows, title="Quote"), headers=HTMX)
    page = _post(client, f"{path}/preview", _builder(rows, title="Quote"))

    assert fragment.status_code == page.status_code == 200
    body = fragment.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="form-preview-body">')
    frame = html.unescape(re.search(r'srcdoc="([^"]*)"', body).group(1))
    assert "<h1>Quote</h1>" in frame and "Step 1 of 2" in frame and "Step 2 of 2" in frame
    assert 'name="custom.budget"' in frame and 'type="date" id="f-custom-when"' in frame
    assert '<div id="origin-panel"' in page.get_data(as_text=True)
    db.session.refresh(origin)
    assert origin.form_fields == []


def test_an_api_origin_has_no_preview(client, auth):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)
    origin = factories.origin(funnel, OriginKind.API)

    response = _post(client, f"/p/funnels/edit/{funnel.id}/origins/{origin.id}/preview")

    assert response.status_code == 404
