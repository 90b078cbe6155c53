"""Staff tasks of a member the workspace deactivated: given back to the team.

Their open tasks (those still to be done, on journeys that are running or waiting for the
lead's confirmation) become nobody's in particular, so My tasks lists them under "Unassigned"
for anyone to pick up, each with a line on its lead's timeline saying why. The funnels' staff
tasks that named them name nobody from then on, so a lead registered later gets no task
assigned to them either. Reactivating them gives nothing back: the team may have picked the
tasks up meanwhile, and a task moving back to someone without anyone deciding would surprise
whoever took it.

Run in the deactivation's transaction, after it locked the workspace's memberships: an
assignment to them waits for it and then finds them no longer a member (`tasks.assign_step`).
"""

from __future__ import annotations

from dataclasses import dataclass

from leadsite.extensions import db
from leadsite.models import (
    Activity,
    ActivityKind,
    Event,
    Funnel,
    Journey,
    JourneyStatus,
    JourneyStep,
    Stage,
    StepStatus,
    User,
)
from leadsite.outbox import event_types

OPEN_STEPS = (StepStatus.PENDING.value, StepStatus.DUE.value)
LIVE_JOURNEYS = (JourneyStatus.ACTIVE.value, JourneyStatus.AWAITING.value)


@dataclass(frozen=True)
class Released:
    tasks: int
    funnel_tasks: int


def release_assignments(workspace_id: str, user: User) -> Released:
    """Unassign the user's open staff tasks in the workspace, with a timeline entry each, and
    clear them from the workspace's staff-task activities."""
    steps = list(
        db.session.execute(
            db.select(JourneyStep, Journey.lead_id)
            .join(Journey, Journey.id == JourneyStep.journey_id)
            .where(
                Journey.workspace_id == workspace_id,
                Journey.status.in_(LIVE_JOURNEYS),
                JourneyStep.kind == ActivityKind.STAFF_TASK.value,
                JourneyStep.status.in_(OPEN_STEPS),
                JourneyStep.assignee_id == user.id,
            )
            .order_by(JourneyStep.id)
            # PostgreSQL re-reads a row it waited for: a task done meanwhile is left alone.
            # FOR NO KEY UPDATE, as `lock_journey` and an UPDATE take: FOR UPDATE would also
            # wait for the key-share locks of rows that refer to these.
            .with_for_update(of=JourneyStep, key_share=True)
        )
    )
    who = {"id": user.id, "email": user.email, "name": user.name}
    for step, lead_id in steps:
        step.assignee_id = None
        # On the timeline only: no webhook carries this type.
        db.session.add(
            Event(
                workspace_id=workspace_id,
                lead_id=lead_id,
                journey_id=step.journey_id,
                type=event_types.JOURNEY_TASK_UNASSIGNED,
                payload={
                    "step": {"id": step.id, "title": step.title},
                    "previous_assignee": who,
                    "reason": "deactivated",
                },
            )
        )
    activities = list(
        db.session.scalars(
            db.select(Activity)
            .join(Stage, Stage.id == Activity.stage_id)
            .join(Funnel, Funnel.id == Stage.funnel_id)
            .where(Funnel.workspace_id == workspace_id, Activity.assignee_id == user.id)
            .order_by(Activity.id)
            # Not FOR UPDATE: a registration adding a step of this activity holds a key-share
            # lock on it (the step's foreign key) until it commits, and may be waiting for a
            # step locked above: each would wait for the other.
            .with_for_update(of=Activity, key_share=True)
        )
    )
    for activity in activities:
        activity.assignee_id = None
    db.session.flush()
    return Released(len(steps), len(activities))
