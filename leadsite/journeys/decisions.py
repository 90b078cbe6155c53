"""Decisions between stages: where a finished stage sends its journey, and a sentence saying why.

A stage's `decisions` are ordered branches, `{"condition": {...}, "to": STAGE_ID | "end",
"label": "Large company"}`. When the stage is finished the first branch whose condition holds
(the language of `journeys.conditions`) is taken; none holding, `otherwise` (a stage id or
"end"); neither set, the journey goes to the next stage in order whose own condition holds, as
funnels without decisions always have.

The branch's condition is the decision: its target stage is entered whatever the target's own
entry condition says, and the stages between are passed over. Targets lie after the stage
(journeys cannot loop); a target that was deleted, or moved before the stage since it was
chosen, is not followed: the journey falls back to `otherwise`, then to the next stage in order,
and the explanation says so. A wait-until step that timed out with an `on_timeout` target
overrides the stage's decisions (see `journeys.waits`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from leadsite.journeys.conditions import Facts, needs_data
from leadsite.journeys.plan import StagePlan

END = "end"
MAX_BRANCHES = 10


@dataclass(frozen=True)
class Route:
    """Where a finished stage sends the journey: a stage id, END, or None (the next stage in
    order whose condition holds), why, and the branch taken for the timeline."""

    to: str | None
    explanation: str
    branch: dict[str, Any] | None = None

    def event(self) -> dict[str, Any]:
        return {"to": self.to, "explanation": self.explanation, "branch": self.branch}


def has_decisions(stage: StagePlan) -> bool:
    return bool(stage.decisions) or bool(stage.otherwise)


def decisions_need_data(stages: Sequence[StagePlan]) -> bool:
    """Whether any branch of these stages reads the journey's data points."""
    return any(needs_data(b.get("condition")) for s in stages for b in s.decisions)


def branch_name(branch: dict[str, Any], index: int) -> str:
    label = str(branch.get("label") or "").strip()
    return f"“{label}” (branch {index + 1})" if label else f"branch {index + 1}"


def decide(stage: StagePlan, later: Sequence[StagePlan], facts: Facts) -> Route | None:
    """The route the finished `stage` chooses; None when it has no decisions (the journey goes
    on in order, as before decisions existed). `later`: the stages after it, in order."""
    if not has_decisions(stage):
        return None
    ahead = {s.id: s.name for s in later}
    failed: list[str] = []
    for index, branch in enumerate(stage.decisions):
        holds, why = facts.evaluate(branch.get("condition"))
        if not holds:
            failed.append(why)
            continue
        taken = {"index": index, "label": branch.get("label"), "to": branch.get("to")}
        said = f"“{stage.name}” took {branch_name(branch, index)}: {why}"
        target = branch.get("to")
        if target == END or target in ahead:
            return Route(target, f"{said}, to {_name(target, ahead)}", taken)
        return _otherwise(stage, ahead, f"{said}, but its target is gone or not after it", taken)
    none = f"no branch of “{stage.name}” held ({'; '.join(failed)})" if failed else ""
    return _otherwise(stage, ahead, none or f"“{stage.name}” has no branch", None)


def timed_out(stage: StagePlan, later: Sequence[StagePlan], target: str, why: str) -> Route:
    """The route of a wait-until step that timed out with an `on_timeout` target: `why` says
    which step; a target gone falls back to the stage's decisions' `otherwise`, then order."""
    ahead = {s.id: s.name for s in later}
    taken = {"index": None, "label": "on timeout", "to": target}
    if target == END or target in ahead:
        return Route(target, f"{why}, to {_name(target, ahead)}", taken)
    return _otherwise(stage, ahead, f"{why}, but its target is gone or not after it", taken)


def _otherwise(
    stage: StagePlan, ahead: dict[str, str], said: str, taken: dict[str, Any] | None
) -> Route:
    target = stage.otherwise
    if target == END or target in ahead:
        return Route(target, f"{said}; otherwise to {_name(target, ahead)}", taken)
    if target:
        said = f"{said}; its “otherwise” stage is gone or not after it"
    return Route(None, f"{said}; on to the next stage in order", taken)


def _name(target: str | None, ahead: dict[str, str]) -> str:
    return "the end" if target == END else f"“{ahead.get(target or '', target)}”"


def skipped_reason(route: Route) -> str:
    return f"passed over: {route.explanation}"


def entered_by(route: Route, stage_name: str) -> str:
    """The `stage_entered` explanation of a stage a route chose."""
    return route.explanation if route.to is not None else f"{route.explanation}: “{stage_name}”"


def stages_leading_to(target: str, stages: Sequence[Any]) -> list[str]:
    """The names of the stages (ORM or plan) whose branches or "otherwise" go to `target`."""
    return [
        stage.name
        for stage in stages
        if stage.otherwise == target
        or any(isinstance(b, dict) and b.get("to") == target for b in stage.decisions or [])
    ]
