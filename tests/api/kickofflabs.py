"""Helpers of the KickoffLabs dialect's tests: a campaign (an API origin) and its example body."""

from __future__ import annotations

from typing import Any

from werkzeug.test import TestResponse

from tests.api.conftest import ApiWorld

# The example request of KickoffLabs' "Create or Update a New Lead" (seed 003), as printed.
EXAMPLE = {
    "email": "ada@example.com",
    "phone_number": "+12065550100",
    "first_name": "Ada",
    "company": "Example Co",
}


def post_v2(api: ApiWorld, body: Any = None, campaign: str | None = None, **kwargs: Any):
    """`POST /v2/<campaign>/` with the world's key as a Bearer header (unless headers given)."""
    headers = kwargs.pop("headers", api.auth)
    if body is not None and "data" not in kwargs:
        kwargs["json"] = body
    return api.client.post(f"/v2/{campaign or api.origin.ref}/", headers=headers, **kwargs)


def error_code(response: TestResponse) -> str:
    assert response.json is not None
    assert response.json["success"] is False
    return response.json["code"]
