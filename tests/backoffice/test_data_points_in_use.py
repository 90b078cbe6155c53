"""A data point that forms, conditions, activities or templates use is not deleted: its page
lists where it is used. It can be archived: kept with its values, offered in no new editor."""

from __future__ import annotations

import pytest

from leadsite.extensions import db
from leadsite.models import ActivityKind, DataPoint, OriginKind, Workspace
from tests import factories
from tests.backoffice.test_data_points import HTMX, _points, _post, _sign_in

COMPANY_IS_ACME = {"rules": [{"field": "data.company", "op": "eq", "value": "Acme"}]}


def _point(ws: Workspace, name: str = "company") -> DataPoint:
    return factories.data_point(ws, name)


def _origin(funnel, kind: OriginKind, name: str):
    origin = factories.origin(funnel, kind)
    origin.name = name
    return origin


def _funnel_using_it(ws: Workspace):
    """A funnel reading `company` in every way a funnel can; returns (funnel, uses by kind)."""
    funnel = factories.funnel(ws, name="Sales")
    page = _origin(funnel, OriginKind.PAGE, "Website")
    page.form_fields = [{"field": "email", "required": True}, {"data_point": "company"}]
    mapped = _origin(funnel, OriginKind.API, "CRM hook")
    mapped.mapping = {"email": "contact.email", "data.company": "contact.org"}
    review = factories.stage(funnel, "Review", condition=COMPANY_IS_ACME)
    review.decisions = [{"condition": COMPANY_IS_ACME, "to": "end"}]
    factories.activity(review, ActivityKind.LEAD_TASK, "Profile", data_points=["company"])
    factories.activity(review, ActivityKind.WAIT_UNTIL, "Hold", condition=COMPANY_IS_ACME)
    factories.activity(
        review, ActivityKind.STAKEHOLDER_TASK, "Accountant", email_data_point="company"
    )
    factories.activity(
        review, ActivityKind.EMAIL_LEAD, "Welcome", body="Hello {{ data['company'] }}"
    )
    db.session.commit()
    return funnel


EXPECTED = [
    "The form of origin “Website” of funnel “Sales”",
    "The field mapping of origin “CRM hook” of funnel “Sales”",
    "The condition of stage “Review” of funnel “Sales”",
    "Branch 1 of the decisions after stage “Review” of funnel “Sales”",
    "Activity “Profile” in stage “Review” of funnel “Sales” lists it in `data_points`",
    "Activity “Hold” in stage “Review” of funnel “Sales” waits on it in its condition",
    "Activity “Accountant” in stage “Review” of funnel “Sales” names it as `email_data_point`",
    "The email template of activity “Welcome” in stage “Review” of funnel “Sales”",
]


def test_a_data_point_used_by_funnels_is_not_deleted_and_its_uses_are_listed(client, auth):
    ws = _sign_in(auth)
    point = _point(ws)
    funnel = _funnel_using_it(ws)
    message = "“Company” cannot be deleted: 8 places use it."

    confirm = client.get(f"/p/data-points/{point.id}/delete").get_data(as_text=True)
    page = _post(client, f"/p/data-points/{point.id}/delete", {})
    fragment = _post(client, f"/p/data-points/{point.id}/delete", {}, headers=HTMX)
    edit = client.get(f"/p/data-points/{point.id}/edit").get_data(as_text=True)

    assert message in confirm and "Delete data point</button>" not in confirm
    assert page.status_code == fragment.status_code == 409
    assert message in fragment.get_data(as_text=True)
    for where in EXPECTED:
        assert where in confirm and where in edit and where in page.get_data(as_text=True)
    origin = funnel.origins[0]
    assert f'href="/p/funnels/edit/{funnel.id}/origins/{origin.id}"' in confirm
    assert set(_points(ws)) == {"company"}


def test_the_message_counts_journeys_and_places_together(client, auth):
    ws = _sign_in(auth)
    point = _point(ws)
    funnel = factories.funnel(ws)
    factories.stage(funnel, "Review", condition=COMPANY_IS_ACME)
    lead = factories.lead(ws)
    factories.journey_value(factories.journey(lead, funnel), point, "Acme")

    page = _post(client, f"/p/data-points/{point.id}/delete", {})

    expected = "“Company” cannot be deleted: 1 journey holds a value of it and 1 place uses it."
    assert page.status_code == 409 and expected in page.get_data(as_text=True)


def test_an_unused_data_point_says_so_on_its_page_and_is_deleted(client, auth):
    ws = _sign_in(auth)
    point = _point(ws, "unused")
    _point(ws, "company")
    _funnel_using_it(ws)

    edit = client.get(f"/p/data-points/{point.id}/edit").get_data(as_text=True)
    response = _post(client, f"/p/data-points/{point.id}/delete", {})

    assert "No form, condition, activity or email template uses it." in edit
    assert response.status_code == 302
    assert set(_points(ws)) == {"company"}


def test_a_used_data_point_cannot_be_renamed(client, auth):
    ws = _sign_in(auth)
    point = _point(ws)
    _funnel_using_it(ws)
    form = {"name": "organisation", "label": "Company", "type": "text", "choices": ""}

    response = _post(client, f"/p/data-points/{point.id}/edit", {**form, "help_text": ""})

    assert response.status_code == 422
    assert "Fixed: 8 places read it by this name" in response.get_data(as_text=True)
    assert set(_points(ws)) == {"company"}


def test_archive_keeps_values_lists_it_as_archived_and_unarchive_brings_it_back(client, auth):
    ws = _sign_in(auth)
    point = _point(ws)
    journey = factories.journey(factories.lead(ws), factories.funnel(ws))
    factories.journey_value(journey, point, "Acme")

    archived = _post(client, f"/p/data-points/{point.id}/archive", {}, headers=HTMX)
    listing = client.get("/p/data-points").get_data(as_text=True)
    archived_at = _points(ws)["company"].archived_at
    restored = _post(client, f"/p/data-points/{point.id}/unarchive", {})

    assert archived.status_code == 200
    assert "Data point “Company” archived." in archived.get_data(as_text=True)
    assert '<code>company</code> <span class="badge">Archived</span>' in listing
    assert "Unarchive<span" in listing
    assert archived_at is not None
    assert restored.status_code == 302 and _points(ws)["company"].archived_at is None
    assert [d.value for d in journey.data] == ["Acme"]


@pytest.fixture
def archived_world(auth):
    """A funnel with a stage, an unarchived `plan` and an archived `company`."""
    ws = _sign_in(auth)
    _point(ws, "plan")
    company = _point(ws, "company")
    funnel = factories.funnel(ws)
    stage = factories.stage(funnel, "Welcome")
    company.archived_at = company.created_at
    db.session.commit()
    return ws, funnel, stage


def _offered(body: str, name: str) -> bool:
    return f'value="{name}"' in body or f'value="data.{name}"' in body


def test_an_archived_data_point_is_not_offered_in_new_editors(client, archived_world):
    ws, funnel, stage = archived_world
    page_origin = _origin(funnel, OriginKind.PAGE, "Website")
    db.session.commit()
    base = f"/p/funnels/edit/{funnel.id}"

    bodies = {
        "lead task": client.get(f"{base}/stages/{stage.id}/activities/new?kind=lead_task"),
        "stage condition": client.get(f"{base}/stages/{stage.id}"),
        "form builder": client.get(f"{base}/origins/{page_origin.id}"),
        "new lead": client.get("/p/leads/new"),
        "template picker": client.get(f"{base}/stages/{stage.id}/activities/new?kind=email_lead"),
    }

    for where, response in bodies.items():
        body = response.get_data(as_text=True)
        assert response.status_code == 200, where
        if where == "template picker":
            assert "<code>data.plan</code>" in body, where
            assert "<code>data.company</code>" not in body, where
        elif where == "new lead":
            points = _points(ws)
            assert f'name="point_{points["plan"].id}"' in body, where
            assert f'name="point_{points["company"].id}"' not in body, where
        else:
            assert _offered(body, "plan") and not _offered(body, "company"), where


def test_an_editor_that_already_uses_an_archived_data_point_keeps_it(client, archived_world):
    _, funnel, stage = archived_world
    task = factories.activity(stage, ActivityKind.LEAD_TASK, "Profile", data_points=["company"])
    stage.condition = COMPANY_IS_ACME
    db.session.commit()
    base = f"/p/funnels/edit/{funnel.id}"

    task_form = client.get(f"{base}/activities/{task.id}").get_data(as_text=True)
    saved = _post(
        client,
        f"{base}/activities/{task.id}",
        {"activity-title": "Profile", "activity-data_points": ["company"]},
    )
    stage_form = client.get(f"{base}/stages/{stage.id}").get_data(as_text=True)

    assert _offered(task_form, "company") and _offered(stage_form, "company")
    assert saved.status_code == 302
