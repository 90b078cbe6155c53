"""The funnel editor's forms for the lead's upload, sign, video and booking activities."""

from __future__ import annotations

import pytest

from leadsite.extensions import db
from leadsite.journeys.activities import validate_activity_config
from leadsite.models import Activity
from tests import factories
from tests.conftest import csrf_token

HTMX = {"HX-Request": "true"}

# kind: (the form as sent, the config stored)
KINDS = {
    "upload": (
        {"description": "Your ID", "accept": "PDF, .jpg png", "max_mb": "5", "min_files": "2"},
        {"description": "Your ID", "accept": ["pdf", "jpg", "png"], "max_mb": 5, "min_files": 2},
    ),
    "sign": (
        {"text": "I agree to pay.\nIn full.", "consent": "Yes", "document_url": ""},
        {"text": "I agree to pay.\nIn full.", "consent": "Yes"},
    ),
    "video": (
        {"url": "https://vimeo.com/76979871", "description": "Two minutes"},
        {"url": "https://vimeo.com/76979871", "description": "Two minutes"},
    ),
    "booking": (
        {"url": "https://cal.example/ada"},
        {"url": "https://cal.example/ada"},
    ),
}


@pytest.fixture
def stage_path(auth):
    ws = factories.workspace()
    auth.login(factories.user(ws).email)
    funnel = factories.funnel(ws)
    stage = factories.stage(funnel, "Welcome")
    return f"/p/funnels/edit/{funnel.id}/stages/{stage.id}/activities/new", stage


def _post(client, path: str, kind: str, **fields: object):
    data = {"kind": kind, "activity-title": "The step"}
    data |= {f"activity-{key}": value for key, value in fields.items()}
    data["csrf_token"] = csrf_token(client, "/p/")
    return client.post(path, data=data, headers=HTMX)


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_lead_activity_is_added_with_its_settings(client, stage_path, kind):
    path, stage = stage_path

    form = client.get(f"{path}?kind={kind}")
    response = _post(client, path, kind, **KINDS[kind][0])

    assert form.status_code == 200 and 'name="activity-' in form.get_data(as_text=True)
    assert response.status_code == 200, response.get_data(as_text=True)
    [activity] = db.session.scalars(db.select(Activity).filter_by(stage_id=stage.id))
    assert (activity.kind, activity.config) == (kind, KINDS[kind][1])
    assert validate_activity_config(kind, activity.config) == []


@pytest.mark.parametrize(
    ("kind", "fields", "field", "message"),
    [
        ("upload", {"accept": "pdf, *.exe"}, "accept", "File extensions are letters and digits"),
        ("upload", {"max_mb": "11"}, "max_mb", "Number must be between 1 and 10."),
        ("upload", {"min_files": "0"}, "min_files", "Number must be between 1 and 20."),
        ("sign", {"text": "  "}, "text", "This field is required."),
        ("sign", {"text": "Ok", "document_url": "http://x.example/a.pdf"}, "document_url", "https"),
        ("video", {"url": ""}, "url", "This field is required."),
        ("video", {"url": "http://videos.example/a.mp4"}, "url", "must start with https://"),
        ("booking", {"url": "https://[x/"}, "url", "The address has"),
    ],
)
def test_bad_settings_are_refused_on_their_field(client, stage_path, kind, fields, field, message):
    path, stage = stage_path

    response = _post(client, path, kind, **fields)

    body = response.get_data(as_text=True)
    assert response.status_code == 422
    error = body[body.index(f'id="activity-{field}-error"') :][:300]
    assert message in error
    assert db.session.scalar(db.select(Activity).filter_by(stage_id=stage.id)) is None


def test_the_stage_list_summarises_lead_activities(client, stage_path):
    path, _ = stage_path
    _post(client, path, "upload", **KINDS["upload"][0])

    body = _post(client, path, "sign", **KINDS["sign"][0]).get_data(as_text=True)

    assert "2 file(s): pdf, jpg, png, 5 MB each" in body
    assert "Signs: I agree to pay. In full." in body
    assert "Lead uploads documents" in body and "Lead signs a text" in body
