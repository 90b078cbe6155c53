"""Under gunicorn, a request refused before its body was read (too large, no key, unknown ref)
leaves its keep-alive connection usable: a client's next request on it is answered."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import pytest

from tests.operations.conftest import ApiWorld
from tests.operations.processes import gunicorn


def _post(connection: http.client.HTTPConnection, path: str, body: bytes, key: str) -> int:
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    connection.request("POST", path, body, headers)
    response = connection.getresponse()
    response.read()
    assert response.getheader("Connection") != "close"  # it said the connection stays open
    return response.status


@pytest.mark.parametrize(
    ("refusal", "status"),
    [("a body over the endpoint's 64 KiB", 413), ("no API key", 401), ("an unknown ref", 404)],
)
def test_a_refusal_before_the_body_is_read_keeps_the_connection_usable(
    app, api: ApiWorld, tmp_path, refusal: str, status: int
):
    # Found from outside: a requests.Session that sent a too-large lead got its 413, and its
    # next request failed with "Remote end closed connection without response". Gunicorn
    # answers `Connection: keep-alive`, then reads at most 64 KiB of what the app left unread
    # and, if more is left, closes the connection.
    big = {"email": "big@example.com", "notes": "x" * 200_000}
    ref, key = api.origin.ref, api.key
    if status == 401:
        key = ""
    elif status == 404:
        ref = "no-such-ref"
    with gunicorn(app, tmp_path / "gunicorn.log", config=True) as served:
        address = urlsplit(served.url)
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=20)
        try:
            refused = _post(connection, f"/api/v1/leads?ref={ref}", json.dumps(big).encode(), key)
            small = json.dumps({"email": "next@example.com"}).encode()
            after = _post(connection, f"/api/v1/leads?ref={api.origin.ref}", small, api.key)
        finally:
            connection.close()

    assert (refused, after) == (status, 201)
