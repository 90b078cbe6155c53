"""The condition language: every operator, odd data that must not raise, all/any, explanations."""

from __future__ import annotations

from typing import Any

import pytest

from leadsite.journeys.compare import matches
from leadsite.journeys.conditions import evaluate, validate_condition
from leadsite.models import DataPointType, Lead, utcnow
from tests import factories
from tests.journeys.helpers import begin


def rule(field: str, op: str, value: Any = None) -> dict[str, Any]:
    return {"match": "all", "rules": [{"field": field, "op": op, "value": value}]}


@pytest.mark.parametrize(
    ("op", "actual", "expected", "holds"),
    [
        ("eq", "qualified", "qualified", True),
        ("eq", "Qualified ", "qualified", True),  # text ignores case and edges
        ("eq", 40, "40", True),  # both read as numbers
        ("eq", "40.0", 40, True),
        ("eq", "forty", 40, False),
        ("eq", None, "x", False),
        ("eq", True, "yes", True),
        ("eq", False, "true", False),
        ("eq", True, "maybe", False),
        ("eq", {"a": 1}, "a", False),
        ("ne", "new", "qualified", True),
        ("ne", "new", "NEW", False),
        ("ne", None, "x", True),
        ("contains", "Acme Corporation", "corp", True),
        ("contains", "Acme", "zeta", False),
        ("contains", 12345, 234, True),
        ("contains", None, "a", False),
        ("contains", {"a": 1}, "a", False),
        ("contains", "abc", None, False),
        ("gt", 40, 10, True),
        ("gt", 10, 10, False),
        ("gt", "40", 10, True),  # a number written as text
        ("gt", "forty", 10, False),  # text against a number: no match, no error
        ("gt", None, 10, False),
        ("gt", True, 0, False),  # true is not the number 1 here
        ("gt", [50], 10, False),
        ("gt", "2026-03-01", "2026-02-28", True),  # dates
        ("gt", "2026-03-01", 5, False),
        ("gt", "nan", 1, False),
        ("gt", "1e400", 1, False),
        ("gt", 10**400, 1, False),
        ("lt", 4, 10, True),
        ("lt", 10, 10, False),
        ("lt", "2026-01-01", "2026-02-01", True),
        ("gte", 10, 10, True),
        ("gte", 9.5, 10, False),
        ("lte", 10, "10", True),
        ("lte", 11, 10, False),
        ("set", "Acme", None, True),
        ("set", 0, None, True),
        ("set", False, None, True),
        ("set", "   ", None, False),
        ("set", [], None, False),
        ("set", None, None, False),
        ("not_set", None, None, True),
        ("not_set", "", None, True),
        ("not_set", {}, None, True),
        ("not_set", "x", None, False),
        ("tags_eq", ["vip", "trial"], "VIP", True),
        ("tags_contains", ["vip"], "trial", False),
        ("tags_ne", ["vip"], "trial", True),
        ("tags_ne", ["vip"], "vip", False),
        ("tags_gt", ["vip"], 1, False),
    ],
)
def test_each_operator_compares_without_raising(
    op: str, actual: Any, expected: Any, holds: bool
) -> None:
    assert matches(op.removeprefix("tags_"), actual, expected) is holds


def test_lead_fields_tags_and_custom_fields_are_read_from_the_lead() -> None:
    ws = factories.workspace()
    lead = factories.lead(
        ws,
        status="contacted",
        first_name="Ada",
        utm_source="newsletter",
        tags=["vip"],
        custom_fields={"plan": "Growth", "seats": "12"},
        confirmed_at=utcnow(),
    )

    assert evaluate(rule("status", "eq", "contacted"), lead) == (
        True,
        "status (contacted) = contacted",
    )
    assert evaluate(rule("utm_source", "contains", "news"), lead)[0]
    assert evaluate(rule("tags", "contains", "vip"), lead) == (True, "tags (vip) contains vip")
    assert evaluate(rule("custom.plan", "eq", "growth"), lead) == (True, "plan (Growth) = growth")
    assert evaluate(rule("custom.seats", "gte", 12), lead)[0]
    assert evaluate(rule("custom.missing", "not_set"), lead) == (True, "missing is not set")
    assert evaluate(rule("confirmed", "eq", True), lead)[0]
    assert evaluate(rule("opted_out", "eq", "no"), lead)[0]
    assert evaluate(rule("phone", "set"), lead) == (False, "phone is not set")


def test_data_points_are_read_from_the_journey_and_explained_with_their_value() -> None:
    ws = factories.workspace()
    team_size = factories.data_point(ws, "team_size", type=DataPointType.NUMBER)
    funnel = factories.funnel(ws)
    journey = begin(factories.lead(ws), funnel, {team_size: 40})
    lead = journey.lead

    assert evaluate(rule("data.team_size", "gt", 10), lead, journey) == (
        True,
        "team_size (40) > 10",
    )
    assert evaluate(rule("data.team_size", "lt", 10), lead, journey) == (
        False,
        "team_size (40) is not < 10",
    )
    assert evaluate(rule("data.company", "set"), lead, journey) == (False, "company is not set")


def test_all_needs_every_rule_and_says_which_failed() -> None:
    lead = factories.lead(factories.workspace(), status="new", tags=["vip"])
    both = {
        "match": "all",
        "rules": [
            {"field": "tags", "op": "contains", "value": "vip"},
            {"field": "status", "op": "eq", "value": "qualified"},
        ],
    }
    assert evaluate(both, lead) == (False, "status (new) ≠ qualified")

    lead.status = "qualified"
    assert evaluate(both, lead) == (
        True,
        "tags (vip) contains vip and status (qualified) = qualified",
    )


def test_any_needs_one_rule_and_names_it() -> None:
    lead = factories.lead(factories.workspace(), status="new", tags=[])
    either = {
        "match": "any",
        "rules": [
            {"field": "tags", "op": "contains", "value": "vip"},
            {"field": "status", "op": "eq", "value": "new"},
        ],
    }
    assert evaluate(either, lead) == (True, "status (new) = new")

    lead.status = "lost"
    assert evaluate(either, lead) == (
        False,
        "tags (none) does not contain vip and status (lost) ≠ new",
    )


def test_groups_nest() -> None:
    lead = factories.lead(factories.workspace(), status="new", first_name="Ada")
    condition = {
        "match": "all",
        "rules": [
            {"field": "first_name", "op": "set"},
            {
                "match": "any",
                "rules": [
                    {"field": "status", "op": "eq", "value": "qualified"},
                    {"field": "status", "op": "eq", "value": "new"},
                ],
            },
        ],
    }
    assert evaluate(condition, lead) == (True, "first_name (Ada) is set and (status (new) = new)")


@pytest.mark.parametrize("condition", [None, {}, {"match": "all", "rules": []}, {"rules": []}])
def test_no_condition_always_holds(condition: Any) -> None:
    assert evaluate(condition, Lead(status="new")) == (True, "no condition")


@pytest.mark.parametrize(
    ("condition", "error"),
    [
        ("status = new", "condition must be an object with `match` and `rules`"),
        ({**rule("status", "set"), "match": "some"}, "condition.match must be `all` or `any`"),
        ({"rules": "status"}, "condition.rules must be a list"),
        (
            {"rules": ["status"]},
            "condition.rules[0] must be an object with `field`, `op` and `value`",
        ),
        (rule("password", "eq", "x"), "condition.rules[0].field: unknown field 'password'"),
        (rule("__class__", "eq", "x"), "condition.rules[0].field: unknown field '__class__'"),
        (rule("data.", "set"), "condition.rules[0].field: unknown field 'data.'"),
        (rule("status", "like", "x"), "condition.rules[0].op: unknown operator 'like'"),
        (rule("status", "eq"), "condition.rules[0].value: `eq` needs a text, number or true/false"),
        (rule("status", "eq", ["a"]), "condition.rules[0].value: `eq` needs a text, number or"),
        (rule("data.size", "gt", "big"), "condition.rules[0].value: `gt` needs a number or a"),
        ({"rules": [{"match": "any", "rules": []}]}, "condition.rules[0] has no rules"),
    ],
)
def test_invalid_conditions_are_reported_and_never_hold(condition: Any, error: str) -> None:
    errors = validate_condition(condition)
    assert errors and errors[0].startswith(error)

    holds, why = evaluate(condition, Lead(status="new"))
    assert not holds
    assert why.startswith("invalid condition: ")


def test_valid_conditions_have_no_errors_and_data_points_can_be_checked() -> None:
    condition = {
        "match": "any",
        "rules": [
            {"field": "data.team_size", "op": "gt", "value": 10},
            {"field": "custom.plan", "op": "eq", "value": "Growth"},
            {"field": "tags", "op": "not_set"},
            {"field": "created", "op": "lte", "value": "2026-01-01"},
        ],
    }
    assert validate_condition(condition)[0].startswith("condition.rules[3].field")
    del condition["rules"][3]
    assert validate_condition(condition) == []
    assert validate_condition(condition, data_points={"team_size"}) == []
    assert validate_condition(condition, data_points={"company"}) == [
        "condition.rules[0].field: unknown field 'data.team_size'"
    ]
