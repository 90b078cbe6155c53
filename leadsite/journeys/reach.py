"""Which later stages a journey can still enter, by the decisions of the stages on its way.

A finished stage goes to a branch's target, to its `otherwise`, or (neither set, or a target
gone) to the next stage in order whose condition holds, which may be any later stage; a
wait-until step that timed out may send it to its `on_timeout` stage (see `journeys.decisions`
and `journeys.waits`). A stage none of these lead to, from where the journey is, will never be
entered: the lead's page does not promise its tasks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from leadsite.journeys.decisions import END


class Routed(Protocol):
    """A stage as `Stage` and `StagePlan` both are."""

    id: str
    decisions: Any
    otherwise: str | None


def reachable(
    stages: Sequence[Routed], current_id: str, timeouts: dict[str, Iterable[str]] | None = None
) -> set[str]:
    """The ids of the stages after `current_id` (in the order of `stages`) that a journey in it
    can still enter. `timeouts`: the `on_timeout` targets of each stage's wait-until steps."""
    order = [stage.id for stage in stages]
    if current_id not in order:
        return set(order)
    found: set[str] = set()
    todo = [current_id]
    while todo:
        stage_id = todo.pop()
        for target in _targets(stages, order, stage_id, (timeouts or {}).get(stage_id, ())):
            if target not in found:
                found.add(target)
                todo.append(target)
    return found


def _targets(
    stages: Sequence[Routed], order: list[str], stage_id: str, timeouts: Iterable[str]
) -> set[str]:
    index = order.index(stage_id)
    later = set(order[index + 1 :])
    stage = stages[index]
    branches = [b for b in stage.decisions or [] if isinstance(b, dict)]
    targets = {b.get("to") for b in branches} | set(timeouts)
    if stage.otherwise == END or stage.otherwise in later:
        targets.add(stage.otherwise)
    else:  # the next stage in order whose own condition holds: any of them
        targets |= later
    return {target for target in targets if target in later}
