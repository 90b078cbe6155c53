"""The KickoffLabs document's curl command, run as printed (host and key changed) against the
app served on a real port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from leadsite.extensions import db
from leadsite.models import Lead
from tests.api.conftest import ApiWorld
from tests.servers import run_curl, serve

# Seed 003's example request; only the host, CAMPAIGN_ID and KEY are replaced.
DOCUMENTED_CURL = """curl -X POST "https://api.kickofflabs.com/v2/CAMPAIGN_ID/" \\
  -H "Content-Type: application/json" \\
  -H "Authorization: Bearer KEY" \\
  -d '{ "email": "ada@example.com", "phone_number": "+12065550100", "first_name": "Ada", "company": "Example Co" }'"""  # noqa: E501


@pytest.fixture
def served(app: Flask) -> Iterator[str]:
    with serve(app) as url:
        yield url


def test_the_documented_curl_command_registers_the_lead(api: ApiWorld, served: str):
    command = (
        DOCUMENTED_CURL.replace("https://api.kickofflabs.com", served)
        .replace("CAMPAIGN_ID", api.origin.ref)
        .replace("KEY", api.key)
    )

    body = run_curl(command)

    assert body["email"] == "ada@example.com"
    assert body["given_name"] == "Ada"
    assert body["custom_fields"] == {"company": "Example Co"}
    db.session.expire_all()
    lead = db.session.scalars(db.select(Lead)).one()
    assert (lead.id, lead.phone) == (body["id"], "+12065550100")


def test_an_older_integrations_form_post_to_v1_subscribe(api: ApiWorld, served: str):
    command = (
        f'curl -X POST "{served}/v1/{api.origin.ref}/subscribe" '
        f'-d "email=grace@example.com" -d "first_name=Grace" -d "api_key={api.key}"'
    )

    body = run_curl(command)

    assert (body["email"], body["given_name"], body["counter"]) == ("grace@example.com", "Grace", 1)
    db.session.expire_all()
    assert db.session.scalars(db.select(Lead.email)).all() == ["grace@example.com"]
