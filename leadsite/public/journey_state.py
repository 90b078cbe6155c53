"""The lead's view of their journey: stages, their own tasks, progress; and doing a task.

A `lead_task` activity's config may hold `description` (text), `url` and `link_label` (a link
to open) and `data_points` (names the lead fills in before the task is done).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from leadsite import values
from leadsite.extensions import db
from leadsite.journeys.engine import complete_step, lock_journey
from leadsite.journeys.waits import recheck
from leadsite.models import (
    ActivityKind,
    DataPoint,
    Journey,
    JourneyData,
    JourneyStatus,
    JourneyStep,
    Stage,
    StepStatus,
)
from leadsite.public.fields import DATA_PREFIX, FormField, data_point_field

OPEN = (StepStatus.PENDING, StepStatus.DUE)


@dataclass
class Task:
    step: JourneyStep
    state: str  # todo, done, skipped, upcoming
    description: str = ""
    url: str | None = None
    link_label: str = "Open"
    fields: list[FormField] = field(default_factory=list)


@dataclass
class StageView:
    name: str
    state: str  # done, current, upcoming
    tasks: list[Task] = field(default_factory=list)


@dataclass
class JourneyView:
    journey: Journey
    stages: list[StageView]
    progress: int  # percent of the stages behind the lead
    values: dict[str, Any]  # data already given, by input name

    @property
    def tasks(self) -> list[Task]:
        return [task for stage in self.stages for task in stage.tasks]

    @property
    def all_done(self) -> bool:
        """Nothing left for the lead to do, now or later."""
        return all(task.step.status not in OPEN for task in self.tasks)


def journey_view(journey: Journey) -> JourneyView:
    stages = list(
        db.session.scalars(
            db.select(Stage).filter_by(funnel_id=journey.funnel_id).order_by(Stage.position)
        )
    )
    steps = list(
        db.session.scalars(
            db.select(JourneyStep).filter_by(journey_id=journey.id).order_by(JourneyStep.position)
        )
    )
    points = _points(journey, steps)
    data = {
        DATA_PREFIX + item.data_point.name: item.value
        for item in db.session.scalars(db.select(JourneyData).filter_by(journey_id=journey.id))
    }
    current = next((i for i, s in enumerate(stages) if s.id == journey.current_stage_id), None)
    views = []
    for index, stage in enumerate(stages):
        own = [step for step in steps if step.stage_id == stage.id]
        state = _stage_state(journey, index, current, own)
        if state == "skipped":
            continue  # a stage passed over is none of the lead's concern
        tasks = [_task(step, state, points) for step in own if step.kind == ActivityKind.LEAD_TASK]
        views.append(StageView(stage.name, state, [t for t in tasks if t.state != "skipped"]))
    done = sum(1 for view in views if view.state == "done")
    progress = 100 if journey.status == JourneyStatus.COMPLETED else _percent(done, len(views))
    return JourneyView(journey, views, progress, data)


def _percent(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


def _stage_state(
    journey: Journey, index: int, current: int | None, steps: list[JourneyStep]
) -> str:
    if current is not None and index == current:
        return "current"
    passed = journey.status == JourneyStatus.COMPLETED or (current is not None and index < current)
    if not passed:
        return "upcoming"
    if steps and all(step.status == StepStatus.SKIPPED for step in steps):
        return "skipped"
    return "done"


def _task(step: JourneyStep, stage_state: str, points: dict[str, DataPoint]) -> Task:
    config = step.activity.config if step.activity and step.activity.config else {}
    if step.status == StepStatus.DONE:
        state = "done"
    elif step.status == StepStatus.SKIPPED:
        state = "skipped"
    elif step.status == StepStatus.DUE and stage_state == "current":
        state = "todo"
    else:
        state = "upcoming"
    fields = []
    for name in _names(config):
        item = data_point_field({"data_point": name, "required": True}, points)
        if item is not None:
            fields.append(item)
    url = config.get("url")
    return Task(
        step=step,
        state=state,
        description=str(config.get("description") or ""),
        url=url if isinstance(url, str) and url.startswith(("https://", "http://")) else None,
        link_label=str(config.get("link_label") or "Open"),
        fields=fields,
    )


def _names(config: dict[str, Any]) -> list[str]:
    names = config.get("data_points")
    return [name for name in names if isinstance(name, str)] if isinstance(names, list) else []


def _points(journey: Journey, steps: list[JourneyStep]) -> dict[str, DataPoint]:
    names = {
        name
        for step in steps
        if step.kind == ActivityKind.LEAD_TASK and step.activity is not None
        for name in _names(step.activity.config or {})
    }
    if not names:
        return {}
    rows = db.session.scalars(
        db.select(DataPoint).filter(
            DataPoint.workspace_id == journey.workspace_id, DataPoint.name.in_(names)
        )
    )
    return {point.name: point for point in rows}


def complete_task(
    journey: Journey, task: Task, form: dict[str, str], points: dict[str, DataPoint]
) -> dict[str, str]:
    """Check and store the task's data points, then complete its step; or return the errors
    by input name, having written nothing. Flushes, never commits."""
    errors: dict[str, str] = {}
    given: list[tuple[DataPoint, Any]] = []
    for item in task.fields:
        raw = form.get(item.name)
        if item.input == "checkbox":
            given.append((points[item.key], raw == "on"))
            continue
        if raw is None or not raw.strip():
            errors[item.name] = f"Enter your {item.label[:1].lower()}{item.label[1:]}"
            continue
        try:
            given.append((points[item.key], values.data_point_value(points[item.key], raw)))
        except values.Invalid as error:
            errors[item.name] = f"{item.label} {error}" if str(error)[:1].islower() else str(error)
    if errors:
        return errors
    lock_journey(journey)  # before the first write: a registration of the lead writes it too
    existing = {
        item.data_point_id: item
        for item in db.session.scalars(db.select(JourneyData).filter_by(journey_id=journey.id))
    }
    for point, value in given:
        if point.id in existing:
            existing[point.id].value = value
        else:
            db.session.add(JourneyData(journey_id=journey.id, data_point_id=point.id, value=value))
    db.session.flush()  # stage conditions read the data when the step moves the journey on
    result = {"by": "lead", "data": {point.name: value for point, value in given}}
    recheck(journey)  # a wait-until of the stage may be waiting for these values
    complete_step(task.step, result=result)
    return {}


def task_points(journey: Journey, step: JourneyStep) -> dict[str, DataPoint]:
    return _points(journey, [step])
