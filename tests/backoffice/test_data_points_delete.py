"""Deleting data points: a confirmation step, htmx or not; one in use is never deleted."""

from __future__ import annotations

from tests import factories
from tests.backoffice.test_data_points import HTMX, _in_use, _points, _post, _sign_in


def test_delete_asks_first_then_deletes_without_javascript(client, auth):
    ws = _sign_in(auth)
    point = factories.data_point(ws, "unused")

    confirm = client.get(f"/p/data-points/{point.id}/delete")
    response = _post(client, f"/p/data-points/{point.id}/delete", {})

    assert confirm.status_code == 200
    assert 'method="post"' in confirm.get_data(as_text=True)
    assert response.status_code == 302
    assert response.headers["Location"] == "/p/data-points"
    assert _points(ws) == {}


def test_delete_with_htmx_swaps_the_list(client, auth):
    ws = _sign_in(auth)
    point = factories.data_point(ws, "unused")
    factories.data_point(ws, "kept")

    listing = client.get("/p/data-points").get_data(as_text=True)
    response = _post(client, f"/p/data-points/{point.id}/delete", {}, headers=HTMX)

    assert f'hx-post="/p/data-points/{point.id}/delete"' in listing and "hx-confirm=" in listing
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<code>kept</code>" in body and "<code>unused</code>" not in body
    assert "Data point “Unused” deleted." in body
    assert set(_points(ws)) == {"kept"}


def test_a_data_point_in_use_is_not_deleted(client, auth):
    ws = _sign_in(auth)
    point = _in_use(ws, journeys=3)
    message = "“Company” cannot be deleted: 3 journeys hold values of it."

    confirm = client.get(f"/p/data-points/{point.id}/delete").get_data(as_text=True)
    page = _post(client, f"/p/data-points/{point.id}/delete", {})
    fragment = _post(client, f"/p/data-points/{point.id}/delete", {}, headers=HTMX)

    assert message in confirm and "Delete data point</button>" not in confirm
    assert page.status_code == fragment.status_code == 409
    assert message in page.get_data(as_text=True)
    assert message in fragment.get_data(as_text=True) and fragment.headers["HX-Reswap"] == "none"
    assert set(_points(ws)) == {"company"}
