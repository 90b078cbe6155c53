"""Dialect fixtures: the API world with its origin as the workspace's default (`live_server`,
for clients that speak HTTP, is in tests/conftest.py)."""

from __future__ import annotations

import pytest

from leadsite.extensions import db
from tests.api.conftest import ApiWorld


@pytest.fixture
def default_api(api: ApiWorld) -> ApiWorld:
    """The API world whose workspace serves calls naming no origin through `api.origin`."""
    api.workspace.default_origin_id = api.origin.id
    db.session.commit()
    return api
