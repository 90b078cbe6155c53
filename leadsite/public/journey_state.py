"""The lead's view of their journey: stages, their own tasks, progress, what is next; and
doing a task.

The lead's own steps are those of `LEAD_PAGE_KINDS`; the journey page renders each with
`templates/public/steps/<kind>.html`. A `lead_task` activity's config may hold `description`
(text), `url` and `link_label` (a link to open) and `data_points` (names the lead fills in before
the task is done).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from leadsite import values
from leadsite.extensions import db
from leadsite.journeys.engine import StepNotOpen, complete_step, lock_journey
from leadsite.journeys.journey_data import store_values
from leadsite.journeys.lead_activity_config import LEAD_KINDS
from leadsite.journeys.reach import reachable
from leadsite.models import (
    ActivityKind,
    DataPoint,
    Journey,
    JourneyData,
    JourneyStatus,
    JourneyStep,
    Origin,
    Stage,
    StepStatus,
)
from leadsite.public.fields import DATA_PREFIX, FormField, data_point_field
from leadsite.public.submission import ask_for

OPEN = (StepStatus.PENDING, StepStatus.DUE)
# What the lead does themselves in the front-office; their progress counts these steps only.
LEAD_PAGE_KINDS = (ActivityKind.LEAD_TASK, *LEAD_KINDS)


@dataclass
class Task:
    step: JourneyStep
    state: str  # todo, done, skipped, upcoming
    description: str = ""
    url: str | None = None
    link_label: str = "Open"
    fields: list[FormField] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)  # the activity's, for its template


@dataclass
class StageView:
    name: str
    state: str  # done, current, upcoming
    tasks: list[Task] = field(default_factory=list)


@dataclass
class JourneyView:
    journey: Journey
    stages: list[StageView]
    values: dict[str, Any]  # data already given, by input name

    @property
    def tasks(self) -> list[Task]:
        return [task for stage in self.stages for task in stage.tasks]

    @property
    def all_done(self) -> bool:
        """Nothing left for the lead to do, now or later."""
        return all(task.step.status not in OPEN for task in self.tasks)

    @property
    def done(self) -> int:
        """How many of the lead's own steps are done (skipped ones are not counted at all)."""
        return sum(1 for task in self.tasks if task.state == "done")

    @property
    def total(self) -> int:
        return len(self.tasks)

    @property
    def progress(self) -> int:
        """Percent of the lead's own steps done."""
        if not self.total:
            return 100 if self.journey.status == JourneyStatus.COMPLETED else 0
        return round(100 * self.done / self.total)

    @property
    def current_stage(self) -> str | None:
        return next((stage.name for stage in self.stages if stage.state == "current"), None)

    @property
    def next_task(self) -> Task | None:
        """What the lead can do now, else the first thing they will do later."""
        for wanted in ("todo", "upcoming"):
            task = next((task for task in self.tasks if task.state == wanted), None)
            if task is not None:
                return task
        return None


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
    out_of_reach = _out_of_reach(stages, current, steps)
    views = []
    for index, stage in enumerate(stages):
        own = [step for step in steps if step.stage_id == stage.id]
        state = _stage_state(journey, index, current, own)
        if state == "skipped" or stage.id in out_of_reach:
            continue  # a stage passed over, or that no decision leads to, is none of their concern
        tasks = [_task(step, state, points) for step in own if step.kind in LEAD_PAGE_KINDS]
        views.append(StageView(stage.name, state, [t for t in tasks if t.state != "skipped"]))
    return JourneyView(journey, views, data)


def redirect_target(journey: Journey) -> str | None:
    """Where the lead goes once everything of theirs is done: the journey's RedirectURL, else
    the redirect of the origin they registered through."""
    own = values.stored_url_text(journey.redirect_url)
    if own or journey.origin_id is None:
        return own
    origin = db.session.get(Origin, journey.origin_id)
    return values.stored_url_text(origin.redirect_url) if origin else None


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
    for name in _names(config) if step.kind == ActivityKind.LEAD_TASK else []:
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
        config=dict(config),
    )


def _out_of_reach(stages: list[Stage], current: int | None, steps: list[JourneyStep]) -> set[str]:
    """The stages after the current one that its decisions (and those on the way) never lead to;
    a wait-until step that times out may lead to its `on_timeout` stage."""
    if current is None:
        return set()
    timeouts: dict[str, list[str]] = {}
    for step in steps:
        config = step.activity.config if step.activity and step.activity.config else {}
        if step.kind == ActivityKind.WAIT_UNTIL and isinstance(config.get("on_timeout"), str):
            timeouts.setdefault(step.stage_id, []).append(config["on_timeout"])
    ahead = reachable(stages, stages[current].id, timeouts)
    return {stage.id for stage in stages[current + 1 :] if stage.id not in ahead}


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
    journey: Journey,
    task: Task,
    form: dict[str, str],
    points: dict[str, DataPoint],
    record: dict[str, Any],
) -> dict[str, str]:
    """Check and store the task's data points, then complete its step with `record` (who, when,
    from where: `journey_done.lead_record`) and the data in its result; or return the errors
    by input name, having written nothing. Flushes, never commits."""
    errors: dict[str, str] = {}
    given: list[tuple[DataPoint, Any]] = []
    for item in task.fields:
        raw = form.get(item.name)
        if item.input == "checkbox":
            given.append((points[item.key], raw == "on"))
            continue
        if raw is None or not raw.strip():
            errors[item.name] = ask_for(item.label)
            continue
        try:
            given.append((points[item.key], values.data_point_value(points[item.key], raw)))
        except values.Invalid as error:
            errors[item.name] = f"{item.label} {error}" if str(error)[:1].islower() else str(error)
    if errors:
        return errors
    lock_journey(journey)  # before the first write: a registration of the lead writes it too
    if task.step.status != StepStatus.DUE:  # sent twice at once: the first one's data stays
        raise StepNotOpen()
    store_values(journey, given)
    result = {**record, "data": {point.name: value for point, value in given}}
    complete_step(task.step, result=result)
    return {}


def task_points(journey: Journey, step: JourneyStep) -> dict[str, DataPoint]:
    return _points(journey, [step])
