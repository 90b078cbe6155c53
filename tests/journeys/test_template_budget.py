"""Staff templates cannot stall the product: a hard budget, and no lock held while rendering."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import Flask

from leadsite.extensions import db
from leadsite.journeys import sandbox
from leadsite.journeys.emails import TemplateFailed, render_text
from leadsite.models import ActivityKind, Event, JourneyStep, OriginKind, StepStatus
from leadsite.outbox import worker
from leadsite.registration import LeadInput, RegistrationContext, register
from tests import factories
from tests.journeys.helpers import outbox

# The template of issue 12 (it writes nothing, it only works): it made another workspace's
# registration take 14 s.
NESTED_RANGES = (
    "{% for a in range(700) %}{% for b in range(700) %}{% for c in range(700) %}"
    "{% endfor %}{% endfor %}{% endfor %}"
)
BIG = "{% set s = 'x' * 99999 %}"
GROW = "{% set n = namespace(s='x', v=3) %}{% for i in range(40) %}"
CONTEXT = {"lead": {"first_name": "Ada", "tags": ["vip", "trial"]}, "data": {"plan": "Growth"}}
TIMEOUT = 30


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        (NESTED_RANGES, "it needs more than 100,000 loop iterations and calls"),
        ("{% for c in 'x' * 99999 %}{% for d in 'y' * 99999 %}{% endfor %}{% endfor %}", "100,000"),
        # Text captured by {% set %} or a macro, before anything is written out.
        (BIG + "{% set x %}{% for i in range(50000) %}{{ s }}{% endfor %}{% endset %}", "text"),
        (
            BIG
            + "{% macro m() %}{% for i in range(500) %}{{ s }}{% endfor %}{% endmacro %}{{ m() }}",
            "text",
        ),
        # Values that double, or grow in one call, before they could be measured.
        (
            GROW + "{% set n.s = n.s ~ n.s %}{% endfor %}",
            "longer than",
        ),
        (
            GROW + "{% set n.s = n.s + n.s %}{% endfor %}",
            "longer than",
        ),
        (
            GROW + "{% set n.v = n.v * n.v %}{% endfor %}",
            "too large",
        ),
        (BIG + "{{ s|replace('', s) }}", "longer than"),
        (BIG + "{{ s.replace('', s) }}", "longer than"),
        (BIG + "{{ ([s] * 100000)|join }}", "longer than"),
        ("{{ '%999999999d' % 1 }}", "width"),
        ("{{ '{:>999999999}'.format(1) }}", "width"),
        ("{{ 'x'|center(999999999) }}", "width"),
        ("{{ range(10)|slice(999999999)|list }}", "width"),
        ("{{ 'x' * 1000000 }}", "longer than"),
        ("{{ ('x'.encode() * 1000000)|length }}", "longer than"),
        ("{{ 2 ** 100000 }}", "too large"),
        ("{% for i in range(2000) %}{{ 'x' * 99 }}{% endfor %}", "longer than 100,000"),
    ],
)
def test_a_template_over_budget_fails_with_the_reason(source: str, reason: str) -> None:
    with pytest.raises(TemplateFailed) as failure:
        render_text(source, CONTEXT)

    assert str(failure.value).startswith("the template is over its budget: ")
    assert reason in str(failure.value)


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", ""),
        ("{{ lipsum(n=100000) }}", "'lipsum' is undefined"),
        ("{% set l = [] %}{{ l.append(1) }}", "unsafe"),
        ("{% for x in [1] recursive %}{{ loop([x]) }}{% endfor %}", "recursive loops"),
    ],
)
def test_the_ways_around_the_budget_are_closed(source: str, reason: str) -> None:
    with pytest.raises(TemplateFailed) as failure:
        render_text(source, CONTEXT)

    assert reason in str(failure.value)


def test_ordinary_templates_render_as_before() -> None:
    source = (
        "Hi {{ lead.first_name|upper }}, {{ lead.tags|join(', ') }}; {{ data.plan ~ '!' }} "
        "{{ '%s-%03d'|format('a', 7) }} {{ '{}?'.format('ok') }} {{ 'ab' * 3 }} "
        "{% for i in range(3) %}{{ loop.index }}{% endfor %} {{ (2 ** 10) + 1 }} "
        "{{ 'a b'.replace(' ', '_') }} {{ '-'.join(['x', 'y']) }} {{ 'x'|center(5) }}|"
        "{% set t %}{{ lead.first_name }}{% endset %}{{ t|length }}"
    )

    assert render_text(source, CONTEXT) == (
        "Hi ADA, vip, trial; Growth! a-007 ok? ababab 123 1025 a_b x-y   x  |3"
    )


def _email_funnel(ws: Any, body: str) -> Any:
    from leadsite import funnels

    funnel = factories.funnel(ws)
    welcome = funnels.add_stage(funnel, "Welcome")
    funnels.add_activity(welcome, ActivityKind.EMAIL_LEAD, "Auto-reply", subject="Hi", body=body)
    db.session.commit()
    return factories.origin(funnel, OriginKind.API)


def test_a_template_stored_over_budget_fails_its_step_with_a_clear_error() -> None:
    # Stored directly (the back-office refuses it at save), as it was before the budget.
    origin = _email_funnel(factories.workspace(), NESTED_RANGES)
    register(origin, LeadInput(email="ada@example.com"), RegistrationContext())

    worker.run_steps()

    step = db.session.scalars(db.select(JourneyStep)).one()
    error = "the template is over its budget: it needs more than 100,000 loop iterations and calls"
    assert step.status == StepStatus.FAILED and step.result == {"error": error}
    failed = db.session.scalars(db.select(Event).filter_by(type="journey.step_failed")).one()
    assert failed.payload["error"] == error  # the lead's timeline says why
    assert outbox("email") == []


def test_rendering_holds_no_lock_that_another_registration_waits_for(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    origin = _email_funnel(factories.workspace(), "Hello {{ lead.first_name }}")
    register(origin, LeadInput(email="ada@example.com", first_name="Ada"), RegistrationContext())
    elsewhere = factories.origin(factories.funnel(factories.workspace()), OriginKind.API)
    elsewhere_id = elsewhere.id
    outcomes: list[Any] = []

    def register_elsewhere() -> None:
        from leadsite.models import Origin

        with app.app_context():
            try:
                other = db.session.get(Origin, elsewhere_id)
                result = register(other, LeadInput(email="bo@example.com"), RegistrationContext())
                outcomes.append(result.created)
            except Exception as error:  # reported by the assertion below
                outcomes.append(error)
            finally:
                db.session.remove()

    render = sandbox.render

    def render_while_another_registers(source: str, *args: Any) -> str:
        if not outcomes:  # in the middle of rendering, another workspace registers a lead
            thread = threading.Thread(target=register_elsewhere)
            thread.start()
            thread.join(TIMEOUT)
        return render(source, *args)

    monkeypatch.setattr(sandbox, "render", render_while_another_registers)

    worker.run_steps()

    assert outcomes == [True]
    step = db.session.scalars(db.select(JourneyStep)).one()
    assert step.status == StepStatus.DONE
    [email] = outbox("email")
    assert "Hello Ada" in email.payload["text"]
