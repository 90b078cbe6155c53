"""Staff tasks across journeys: which are open for whom, by due date, a page at a time, and who
does them; and the steps that failed and wait for a person to decide.

A staff task is open while its step is DUE and its journey active. Its `due_at` is the date it
should be done by (`leadsite.journeys.due_dates`).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, case, func, select, tuple_

from leadsite.extensions import db
from leadsite.journeys.engine import StepNotOpen, lock_journey
from leadsite.models import (
    ActivityKind,
    Funnel,
    Journey,
    JourneyStatus,
    JourneyStep,
    Lead,
    Membership,
    Stage,
    StepStatus,
)

PAGE_SIZE = 50
ATTENTION_LIMIT = 20


class TaskView(StrEnum):
    """Whose tasks a list shows. TODO, the default: mine and nobody's."""

    TODO = "todo"
    MINE = "mine"
    UNASSIGNED = "unassigned"
    ALL = "all"


class InvalidCursor(ValueError):
    """An `after` cursor this module did not make."""


class NotAMember(ValueError):
    """An assignee who is not an active member of the step's workspace."""


@dataclass(frozen=True)
class TaskRow:
    """A step with what a list shows beside it: its lead, funnel and stage."""

    step: JourneyStep
    lead: Lead
    funnel_name: str
    stage_name: str | None


@dataclass
class TaskPage:
    rows: list[TaskRow]
    next_cursor: str | None


def encode_cursor(step: JourneyStep) -> str:
    raw = f"{step.due_at.astimezone(UTC).isoformat() if step.due_at else ''}|{step.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, step_id = raw.split("|")
        due_at = datetime.fromisoformat(stamp)
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise InvalidCursor(cursor) from error
    if due_at.tzinfo is None or not step_id.startswith("step_") or len(step_id) > 40:
        raise InvalidCursor(cursor)
    return due_at, step_id


def _step_rows() -> Select[Any]:
    """Steps with their lead, funnel name and stage name: what a task row shows."""
    return (
        select(JourneyStep, Lead, Funnel.name, Stage.name)
        .join(Journey, Journey.id == JourneyStep.journey_id)
        .join(Lead, Lead.id == Journey.lead_id)
        .join(Funnel, Funnel.id == Journey.funnel_id)
        .outerjoin(Stage, Stage.id == JourneyStep.stage_id)
    )


def _open_tasks(workspace_id: str) -> Select[Any]:
    """The workspace's open staff tasks, as the partial index `ix_journey_steps_open_staff_tasks`
    holds them (kind and status compared as written there)."""
    return _step_rows().where(
        JourneyStep.kind == ActivityKind.STAFF_TASK.value,
        JourneyStep.status == StepStatus.DUE.value,
        Journey.workspace_id == workspace_id,
        Journey.status == JourneyStatus.ACTIVE.value,
    )


def _whose(view: TaskView, user_id: str) -> list[Any]:
    match view:
        case TaskView.MINE:
            return [JourneyStep.assignee_id == user_id]
        case TaskView.UNASSIGNED:
            return [JourneyStep.assignee_id.is_(None)]
        case TaskView.TODO:
            return [(JourneyStep.assignee_id == user_id) | JourneyStep.assignee_id.is_(None)]
    return []


def open_tasks(
    workspace_id: str,
    user_id: str,
    view: TaskView = TaskView.TODO,
    funnel_id: str = "",
    after: str | None = None,
    limit: int = PAGE_SIZE,
) -> TaskPage:
    """A page of open staff tasks, the earliest due first (so the overdue ones lead), after the
    cursor `after`. Keyset on (due_at, id): a task finished meanwhile neither shifts nor
    repeats rows. The first page walks `ix_journey_steps_open_staff_tasks` in order."""
    statement = _open_tasks(workspace_id).where(*_whose(view, user_id))
    if funnel_id:
        statement = statement.where(Journey.funnel_id == funnel_id)
    if after:
        statement = statement.where(
            tuple_(JourneyStep.due_at, JourneyStep.id) > tuple_(*decode_cursor(after))
        )
    statement = statement.order_by(JourneyStep.due_at, JourneyStep.id).limit(limit + 1)
    rows = [TaskRow(*row) for row in db.session.execute(statement)]
    more = len(rows) > limit
    rows = rows[:limit]
    return TaskPage(rows, encode_cursor(rows[-1].step) if more else None)


def task_counts(workspace_id: str, user_id: str, funnel_id: str = "") -> dict[str, int]:
    """How many open staff tasks each view lists."""
    mine = JourneyStep.assignee_id == user_id
    nobody = JourneyStep.assignee_id.is_(None)
    statement = (
        select(
            func.count(),
            func.count(case((mine, 1))),
            func.count(case((nobody, 1))),
        )
        .select_from(JourneyStep)
        .join(Journey, Journey.id == JourneyStep.journey_id)
        .where(
            JourneyStep.kind == ActivityKind.STAFF_TASK.value,
            JourneyStep.status == StepStatus.DUE.value,
            Journey.workspace_id == workspace_id,
            Journey.status == JourneyStatus.ACTIVE.value,
        )
    )
    if funnel_id:
        statement = statement.where(Journey.funnel_id == funnel_id)
    every, mine_count, nobody_count = db.session.execute(statement).one()
    return {
        TaskView.TODO: mine_count + nobody_count,
        TaskView.MINE: mine_count,
        TaskView.UNASSIGNED: nobody_count,
        TaskView.ALL: every,
    }


def due_summary(
    workspace_id: str, user_id: str, start_of_today: datetime, end_of_today: datetime
) -> dict[str, int]:
    """For the dashboard: my (and nobody's) open tasks overdue (due before today) and due today.

    A due date is a day, as in any task list: a task due today is overdue from tomorrow."""
    statement = (
        select(func.count(case((JourneyStep.due_at < start_of_today, 1))), func.count())
        .select_from(JourneyStep)
        .join(Journey, Journey.id == JourneyStep.journey_id)
        .where(
            JourneyStep.kind == ActivityKind.STAFF_TASK.value,
            JourneyStep.status == StepStatus.DUE.value,
            Journey.workspace_id == workspace_id,
            Journey.status == JourneyStatus.ACTIVE.value,
            JourneyStep.due_at < end_of_today,
            *_whose(TaskView.TODO, user_id),
        )
    )
    overdue, due = db.session.execute(statement).one()
    return {"overdue": overdue, "due_today": due - overdue, "total": due}


def failed_steps(workspace_id: str, limit: int = ATTENTION_LIMIT) -> list[TaskRow]:
    """Steps that failed on active journeys, the latest first: each holds its journey until
    someone retries or skips it."""
    statement = (
        _step_rows()
        .where(
            JourneyStep.status == StepStatus.FAILED.value,
            Journey.workspace_id == workspace_id,
            Journey.status == JourneyStatus.ACTIVE.value,
        )
        .order_by(JourneyStep.updated_at.desc(), JourneyStep.id.desc())
        .limit(limit)
    )
    return [TaskRow(*row) for row in db.session.execute(statement)]


def workspace_step(workspace_id: str, step_id: str) -> JourneyStep | None:
    """A step of one of the workspace's journeys (None for another workspace's)."""
    return db.session.scalar(
        select(JourneyStep)
        .join(Journey, Journey.id == JourneyStep.journey_id)
        .where(JourneyStep.id == step_id, Journey.workspace_id == workspace_id)
    )


def task_row(step: JourneyStep) -> TaskRow:
    journey = step.journey
    stage = db.session.get(Stage, step.stage_id) if step.stage_id else None
    return TaskRow(step, journey.lead, journey.funnel.name, stage.name if stage else None)


def assign_step(step: JourneyStep, user_id: str | None) -> None:
    """Give an open staff task to a member of its workspace (None: to nobody in particular).

    `StepNotOpen` for a finished step or an ended journey; `NotAMember` for anyone else."""
    journey = lock_journey(step.journey)
    if step.kind != ActivityKind.STAFF_TASK or journey.status != JourneyStatus.ACTIVE:
        raise StepNotOpen()
    if step.status not in (StepStatus.PENDING, StepStatus.DUE):
        raise StepNotOpen()
    if user_id is not None and not is_member(journey.workspace_id, user_id):
        raise NotAMember(user_id)
    step.assignee_id = user_id
    db.session.flush()


def is_member(workspace_id: str, user_id: str) -> bool:
    return (
        db.session.scalar(
            select(Membership.id).where(
                Membership.workspace_id == workspace_id,
                Membership.user_id == user_id,
                Membership.active.is_(True),
            )
        )
        is not None
    )
