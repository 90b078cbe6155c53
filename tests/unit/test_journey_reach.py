"""Which later stages a journey can still enter, by the decisions on its way."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from leadsite.journeys.reach import reachable

LARGE = {"condition": {"match": "all", "rules": []}, "to": "sales"}


@dataclass
class S:
    id: str
    decisions: list[dict[str, Any]] = field(default_factory=list)
    otherwise: str | None = None


def funnel(qualify: S, sales: S) -> list[S]:
    return [qualify, sales, S("self"), S("after")]


@pytest.mark.parametrize(
    ("qualify", "sales", "current", "expected"),
    [
        # No decisions: any later stage, by its own condition.
        (S("qualify"), S("sales"), "qualify", {"sales", "self", "after"}),
        # A branch to Sales review, otherwise Self-serve; both go on in order.
        (S("qualify", [LARGE], "self"), S("sales"), "qualify", {"sales", "self", "after"}),
        # In Sales review, which ends the journey: nothing after it will be entered.
        (S("qualify", [LARGE], "self"), S("sales", [], "end"), "sales", set()),
        # From Qualify: Sales review (then the end), or Self-serve and what follows.
        (
            S("qualify", [LARGE], "self"),
            S("sales", [], "end"),
            "qualify",
            {"sales", "self", "after"},
        ),
        # Only the branch, otherwise the end: Self-serve only by Sales review's order.
        (S("qualify", [LARGE], "end"), S("sales", [], "end"), "qualify", {"sales"}),
        # A branch to a stage gone, or before the stage, is not followed.
        (S("qualify", [{"to": "gone"}], "end"), S("sales"), "qualify", set()),
        (S("qualify"), S("sales", [{"to": "qualify"}], "after"), "sales", {"after"}),
        # A journey in a stage no longer in the funnel: nothing is ruled out.
        (S("qualify"), S("sales"), "deleted", {"qualify", "sales", "self", "after"}),
    ],
)
def test_the_stages_a_journey_can_still_enter(qualify: S, sales: S, current: str, expected: set):
    assert reachable(funnel(qualify, sales), current) == expected


def test_a_wait_until_that_times_out_may_lead_to_its_stage():
    stages = funnel(S("qualify", [], "end"), S("sales"))

    assert reachable(stages, "qualify") == set()
    assert reachable(stages, "qualify", {"qualify": ["self"]}) == {"self", "after"}
