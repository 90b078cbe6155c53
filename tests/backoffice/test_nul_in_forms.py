"""A NUL character in a back-office or sign-in form: 400 with its reason, before any view reads
the form, on both databases (PostgreSQL's text refused it with a 500; SQLite kept it)."""

from __future__ import annotations

import io

import pytest

from leadsite.extensions import db
from leadsite.models import DataPoint, Funnel, LeadImport, SavedView
from tests import factories
from tests.backoffice.test_data_points import VALID as DATA_POINT
from tests.backoffice.test_funnel_edit import SETTINGS as FUNNEL
from tests.conftest import csrf_token

FORMS = {
    "data point": ("/p/data-points", {**DATA_POINT, "label": "Team\x00size"}, DataPoint),
    "funnel": ("/p/funnels/new", {**FUNNEL, "name": "Web\x00inar"}, Funnel),
    "saved view": ("/p/leads/views", {"name": "VIP\x00", "status": "new"}, SavedView),
    "a field's name": ("/p/data-points", {**DATA_POINT, "label\x00": "x"}, DataPoint),
}


def _count(model: type) -> int:
    db.session.rollback()
    return db.session.scalar(db.select(db.func.count()).select_from(model))


@pytest.mark.parametrize("which", FORMS)
def test_a_nul_in_a_back_office_form_is_refused_and_nothing_is_stored(client, auth, which):
    ws = factories.workspace()
    auth.login(factories.user(ws).email)
    path, data, model = FORMS[which]
    before = _count(model)

    response = client.post(path, data={**data, "csrf_token": csrf_token(client, "/p/")})

    assert response.status_code == 400
    assert "NUL character" in response.get_data(as_text=True)
    assert _count(model) == before


def test_a_nul_in_an_uploaded_file_name_is_refused(client, auth):
    ws = factories.workspace()
    auth.login(factories.user(ws).email)
    token = csrf_token(client, "/p/leads/import")

    response = client.post(
        "/p/leads/import",
        data={"csrf_token": token, "file": (io.BytesIO(b"email\na@example.com\n"), "a\x00.csv")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 400 and "NUL character" in response.get_data(as_text=True)
    assert _count(LeadImport) == 0


def test_a_nul_in_the_sign_in_form_is_refused(client):
    token = csrf_token(client)

    response = client.post(
        "/login", data={"email": "a\x00@example.com", "password": "x", "csrf_token": token}
    )

    assert response.status_code == 400 and "NUL character" in response.get_data(as_text=True)
