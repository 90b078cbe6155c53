"""Funnel dates at the calendar's edges, typed or stored, in any workspace time zone (or one
that is not a zone): the pages still show."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from leadsite.extensions import db
from leadsite.models import Funnel, Workspace
from tests import factories
from tests.conftest import csrf_token

# Zones that push the edges off the calendar one way or the other.
ZONES = ["Pacific/Kiritimati", "Pacific/Pago_Pago", "Not/A_Zone"]


def _sign_in(auth, timezone: str) -> Workspace:
    ws = factories.workspace()
    db.session.execute(db.update(Workspace).where(Workspace.id == ws.id).values(timezone=timezone))
    db.session.commit()
    auth.login(factories.user(ws).email)
    return ws


@pytest.mark.parametrize("timezone", ZONES)
def test_funnel_dates_at_the_edges_show_in_any_workspace_zone(client, auth, timezone):
    ws = _sign_in(auth, timezone)
    funnel = factories.funnel(
        ws,
        starts_at=datetime(1, 1, 1, tzinfo=UTC),
        ends_at=datetime(9999, 12, 31, 23, 59, tzinfo=UTC),
    )
    factories.registered(factories.origin(funnel), email="ada@example.com")

    for page in ["/p/", "/p/funnels", f"/p/funnels/edit/{funnel.id}", "/p/leads"]:
        assert client.get(page).status_code == 200, page


@pytest.mark.parametrize("timezone", ZONES)
@pytest.mark.parametrize(
    ("starts", "ends"), [("0001-01-01T00:00", "0001-01-01T00:30"), ("9999-12-31T23:00", "")]
)
def test_funnel_dates_typed_at_the_edges_are_saved(client, auth, timezone, starts, ends):
    ws = _sign_in(auth, timezone)
    funnel = factories.funnel(ws)
    form = {
        "name": "Edges",
        "status": "active",
        "starts_at": starts,
        "ends_at": ends,
        "identifier": "email",
        "on_duplicate": "update",
        "csrf_token": csrf_token(client, "/p/"),
    }

    response = client.post(f"/p/funnels/edit/{funnel.id}", data=form)

    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Funnel, funnel.id).starts_at.year == int(starts[:4])
