"""Dialect fixtures: the API world with its origin as the workspace's default, and the app
served on a real port for clients that speak HTTP (requests, urllib)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug.serving import make_server

from leadsite.extensions import db
from tests.api.conftest import ApiWorld


@pytest.fixture
def default_api(api: ApiWorld) -> ApiWorld:
    """The API world whose workspace serves calls naming no origin through `api.origin`."""
    api.workspace.default_origin_id = api.origin.id
    db.session.commit()
    return api


@pytest.fixture(scope="session")
def _served(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def live_server(app: Flask, _served: str) -> Iterator[str]:
    """The app's base URL on 127.0.0.1; the links it makes point there during the test."""
    app.config["BASE_URL"] = _served
    yield _served
    app.config["BASE_URL"] = "http://localhost"
