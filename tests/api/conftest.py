"""API fixtures: a workspace with an active funnel, an API origin, a key and data points."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from leadsite.models import Funnel, Origin, OriginKind, Workspace
from tests import factories


@dataclass
class ApiWorld:
    client: FlaskClient
    workspace: Workspace
    funnel: Funnel
    origin: Origin
    key: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def register(self, body: Any = None, ref: str | None = None, **kwargs: Any) -> TestResponse:
        headers = {**self.auth, **kwargs.pop("headers", {})}
        if body is not None and "data" not in kwargs:
            kwargs["json"] = body
        return self.client.post(
            f"/api/v1/leads?ref={ref or self.origin.ref}", headers=headers, **kwargs
        )

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.get(path, headers=self.auth, **kwargs)


@pytest.fixture
def api(client: FlaskClient) -> ApiWorld:
    ws = factories.workspace("Acme")
    funnel = factories.staged_funnel(ws)
    origin = factories.origin(funnel, OriginKind.API, allowed_domains=["https://shop.example.com"])
    factories.data_point(ws, "company")
    factories.data_point(ws, "team_size", type="number")
    factories.data_point(ws, "plan", type="choice", choices=["Starter", "Growth"])
    return ApiWorld(client, ws, funnel, origin, factories.api_key(ws))
