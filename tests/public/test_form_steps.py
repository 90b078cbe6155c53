"""Multi-step forms without JavaScript: each step posts, is checked on its own, carries the
answers of the others, and only the last one registers."""

from __future__ import annotations

import html
import re

import pytest

from leadsite.extensions import db
from leadsite.models import Lead, OriginKind
from tests import factories
from tests.public.helpers import aged_token

STEPS = [
    {"field": "first_name", "required": True},
    {"custom": "role", "type": "choice", "label": "Role", "options": ["Buyer", "Seller"]},
    {
        "custom": "budget",
        "type": "number",
        "label": "Budget",
        "required": True,
        "step": True,
        "when": {"field": "custom.role", "op": "equals", "value": "Buyer"},
    },
    {"field": "email", "required": True, "step": True},
]
HIDDEN = re.compile(r'<input type="hidden" name="([^"_][^"]*)" value="([^"]*)">')


@pytest.fixture
def origin():
    ws = factories.workspace()
    settings = {"consent": {"text": "I agree.", "version": "1", "required": True}}
    return factories.origin(
        factories.staged_funnel(ws), OriginKind.EMBED, form_fields=STEPS, settings=settings
    )


def _send(client, origin, **fields: str):
    data = {"_token": aged_token(origin.ref), "website": "", **fields}
    return client.post(
        f"/embed/{origin.ref}", data=data, environ_base={"REMOTE_ADDR": "203.0.113.9"}
    )


def _leads() -> int:
    db.session.expire_all()
    return db.session.scalar(db.select(db.func.count()).select_from(Lead))


def test_the_first_step_shows_its_fields_and_the_progress(client, origin):
    body = html.unescape(client.get(f"/embed/{origin.ref}").get_data(as_text=True))

    assert "Step 1 of 3" in body and '<progress max="3" value="1"' in body
    assert 'name="first_name"' in body and 'name="custom.role"' in body
    assert 'name="email"' not in body and 'name="_consent"' not in body
    assert ">Next</button>" in body and ">Back</button>" not in body


def test_a_step_is_checked_alone_with_the_message_on_its_field(client, origin):
    response = _send(client, origin, _step="0", **{"custom.role": "Buyer"})

    assert response.status_code == 422
    body = html.unescape(response.get_data(as_text=True))
    assert "Step 1 of 3" in body
    assert 'id="f-first-name-error"><span class="sr">Error: </span>Enter your first name' in body
    assert "email" not in re.findall(r'id="f-([a-z-]+)-error"', body)
    assert _leads() == 0


def test_the_steps_carry_answers_and_only_the_last_registers(client, origin):
    first = _send(client, origin, _step="0", first_name="Ana", **{"custom.role": "Buyer"})
    body = html.unescape(first.get_data(as_text=True))
    assert first.status_code == 200 and "Step 2 of 3" in body
    carried = dict(HIDDEN.findall(body))
    assert carried == {"first_name": "Ana", "custom.role": "Buyer"}
    assert _leads() == 0

    second = _send(client, origin, _step="1", **carried, **{"custom.budget": "5000"})
    body = html.unescape(second.get_data(as_text=True))
    assert "Step 3 of 3" in body and 'name="_consent"' in body and ">Back</button>" in body
    carried = dict(HIDDEN.findall(body))
    assert _leads() == 0

    last = _send(client, origin, _step="2", **carried, email="ana@example.com", _consent="on")

    assert last.status_code == 200, last.get_data(as_text=True)
    db.session.expire_all()
    lead = db.session.scalar(db.select(Lead).filter_by(email="ana@example.com"))
    assert lead.first_name == "Ana" and lead.opt_in is True
    assert lead.custom_fields == {"role": "Buyer", "budget": 5000}


def test_a_step_whose_fields_are_all_hidden_is_skipped(client, origin):
    response = _send(client, origin, _step="0", first_name="Bo", **{"custom.role": "Seller"})

    body = html.unescape(response.get_data(as_text=True))
    assert "Step 3 of 3" in body and 'name="email"' in body
    assert 'name="custom.budget"' not in body


def test_back_keeps_every_answer_without_checking(client, origin):
    response = _send(
        client,
        origin,
        _step="2",
        _back="1",
        first_name="Ana",
        email="not an email",
        **{"custom.role": "Buyer", "custom.budget": "10"},
    )

    assert response.status_code == 200
    body = html.unescape(response.get_data(as_text=True))
    assert "Step 2 of 3" in body and 'value="10"' in body and "Error" not in body
    assert dict(HIDDEN.findall(body))["email"] == "not an email"


def test_a_refusal_on_the_last_step_goes_back_to_the_step_of_the_field(client, origin):
    response = _send(
        client,
        origin,
        _step="2",
        first_name="Ana",
        email="ana@example.com",
        _consent="on",
        **{"custom.role": "Buyer", "custom.budget": "lots"},
    )

    assert response.status_code == 422
    body = html.unescape(response.get_data(as_text=True))
    assert "Step 2 of 3" in body
    assert 'id="f-custom-budget-error"><span class="sr">Error: </span>Enter “Budget”' in body
    assert _leads() == 0


def test_a_bad_email_is_caught_on_its_own_step(client):
    ws = factories.workspace()
    fields = [{"field": "email", "required": True}, {"field": "first_name", "step": True}]
    origin = factories.origin(factories.staged_funnel(ws), OriginKind.PAGE, form_fields=fields)

    response = client.post(
        f"/r/{origin.ref}",
        data={"_token": aged_token(origin.ref), "_step": "0", "email": "ana@"},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )

    assert response.status_code == 422
    body = html.unescape(response.get_data(as_text=True))
    assert "Step 1 of 2" in body and 'id="f-email-error"' in body
