"""Which variables a staff template reads, and the sentence for each that does not exist."""

from __future__ import annotations

import pytest

from leadsite.journeys.emails import sample_context, template_context
from leadsite.journeys.template_check import (
    LEAD_FIELDS,
    Variables,
    data_points_read,
    reads_journey_url,
    unknown_variables,
)
from tests import factories

VARIABLES = Variables(data_points=("company", "team_size"), archived=("old_plan",))


@pytest.mark.parametrize(
    ("source", "problems"),
    [
        (
            "You're in, {{ lead.first_nme }}!",
            ["Unknown variable `lead.first_nme`: did you mean `lead.first_name`?"],
        ),
        (
            "{{ data.compnay }} {{ journy_url }}",
            [
                "Unknown variable `data.compnay`: did you mean `data.company`?",
                "Unknown variable `journy_url`: did you mean `journey_url`?",
            ],
        ),
        (
            "{{ data.get('team_sise') }}",
            ["Unknown variable `data.team_sise`: did you mean `data.team_size`?"],
        ),
        ("{{ data['zzz'] }}{{ data['zzz'] }}", ["Unknown variable `data.zzz`."]),
        ("{% if lead.vip %}VIP{% endif %}", ["Unknown variable `lead.vip`."]),
    ],
)
def test_an_unknown_variable_is_named_with_what_was_probably_meant(source, problems):
    assert unknown_variables(source, VARIABLES) == problems


@pytest.mark.parametrize(
    "source",
    [
        "{% for tag in lead.tags %}{{ tag }}{{ loop.index }}{% endfor %}",
        "{% set greeting = 'Hi' %}{{ greeting }} {{ lead.first_name|title }}",
        "{% macro line(text) %}{{ text }}{% endmacro %}{{ line(funnel) }}",
        "{{ lead.custom.anything }} {{ lead.get('email') }} {{ range(3)|join(',') }}",
        "{{ data.old_plan }} {{ data[lead.custom.key] }} {{ journey_url }}",
        "{{ lead.first_name.upper() }} {% for k, v in data.items() %}{{ k }}{% endfor %}",
        "{{ not closed",  # does not parse: `check_template` says so, not this
    ],
)
def test_bound_names_globals_methods_and_archived_points_are_not_unknown(source):
    assert unknown_variables(source, VARIABLES) == []


def test_the_lead_fields_checked_are_those_the_context_offers(app):
    ws = factories.workspace()
    lead = factories.lead(ws)
    journey = factories.journey(lead, factories.funnel(ws))

    assert set(template_context(lead, journey, {})["lead"]) == set(LEAD_FIELDS)
    assert set(sample_context()["lead"]) == set(LEAD_FIELDS)


def test_data_points_read_and_the_journey_link():
    source = "{{ data.company }} {{ data['team_size'] }} {{ data.get('plan') }}"

    assert data_points_read(source) == {"company", "team_size", "plan"}
    assert reads_journey_url("Open {{ journey_url }}") is True
    assert reads_journey_url("{% set journey_url = 'x' %}{{ journey_url }}") is False
    assert reads_journey_url("Hello {{ lead.first_name }}") is False
