"""A small world for the funnel report's tests, with every number the report should show worked
out by hand in `Expected` (see the docstring of `build`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from leadsite.extensions import db
from leadsite.models import (
    ActivityKind,
    FormCount,
    FormEvent,
    Funnel,
    Journey,
    JourneyStatus,
    Origin,
    OriginKind,
    StepStatus,
    Workspace,
    utcnow,
)
from tests import factories

HOUR = 3600.0


@dataclass
class World:
    workspace: Workspace
    funnel: Funnel
    page: Origin
    embed: Origin
    stages: dict[str, str]  # name -> id
    activities: dict[str, str]  # title -> id
    journeys: dict[str, Journey]
    today: date


def _count(origin: Origin, day: date, event: FormEvent, count: int, **key: str) -> None:
    db.session.add(
        FormCount(
            workspace_id=origin.workspace_id,
            funnel_id=origin.funnel_id,
            origin_id=origin.id,
            day=day,
            event=event.value,
            count=count,
            **key,
        )
    )


def _journey(
    ws: Workspace,
    funnel: Funnel,
    origin: Origin,
    created: datetime,
    steps: list[tuple[str, float | None, float | None]],
    **fields: object,
) -> Journey:
    """A journey created at `created` whose steps (in activity order) have (status, hours
    after creation when due, hours after creation when done)."""
    journey = factories.journey(factories.lead(ws), funnel, origin)
    journey.created_at = created
    for step, (status, due, done) in zip(journey.steps, steps, strict=True):
        step.status = status
        step.due_at = None if due is None else created + timedelta(hours=due)
        step.done_at = None if done is None else created + timedelta(hours=done)
    for name, value in fields.items():
        setattr(journey, name, value)
    db.session.commit()
    return journey


def build(ws: Workspace | None = None) -> World:
    """Stages "Welcome" (activities "Profile", a lead task, and "Check", a staff task) and
    "Call" (activity "Call", a staff task); origins "Page" and "Embed". Journeys, all but one
    created two days ago:

    - j1 (Page, first touch google/cpc/spring, last touch newsletter, from a.example, share code
      K1): every step done (Profile 1 h, Check 3 h, Call 2 h after due); completed after 5 h.
    - j2 (Page, google/cpc/spring): Welcome done (Profile 2 h, Check 1 h); Call due three days
      ago: waiting in "Call", overdue.
    - j3 (Embed): Profile due (not overdue: due today), Check done in 10 h: waiting in Welcome.
    - j4 (Embed): Welcome done (Profile 4 h, Check 30 min), then branched to the end: Call
      skipped without being due; completed after 4 h 30 min.
    - old (Page), created 40 days ago and completed: outside the default range.
    """
    ws = ws or factories.workspace()
    now = utcnow()
    today = now.date()
    funnel = factories.funnel(ws, "Trial")
    welcome = factories.stage(funnel, "Welcome")
    profile = factories.activity(welcome, ActivityKind.LEAD_TASK, "Profile")
    check = factories.activity(welcome, ActivityKind.STAFF_TASK, "Check")
    call_stage = factories.stage(funnel, "Call")
    call = factories.activity(call_stage, ActivityKind.STAFF_TASK, "Call")
    page = factories.origin(funnel, OriginKind.PAGE)
    embed = factories.origin(funnel, OriginKind.EMBED)
    page.name, embed.name = "Page", "Embed"

    yesterday = today - timedelta(days=1)
    _count(page, yesterday, FormEvent.VIEW, 100, referrer_host="a.example")
    _count(page, yesterday, FormEvent.VIEW, 20)
    _count(page, today, FormEvent.START, 50)
    _count(page, today, FormEvent.SUBMIT, 30)
    _count(page, today, FormEvent.HELD, 2)
    _count(page, today, FormEvent.INVALID, 4, field="email")
    _count(page, today, FormEvent.INVALID, 1, field="phone")
    _count(page, today, FormEvent.REGISTERED_NEW, 20)
    _count(page, today, FormEvent.REGISTERED_RETURNING, 5)
    _count(page, today, FormEvent.CONFIRMED, 10)
    _count(page, today, FormEvent.CONVERTED, 3)
    _count(page, today - timedelta(days=40), FormEvent.VIEW, 1000)
    _count(embed, today, FormEvent.VIEW, 10, utm_campaign="spring")
    _count(embed, today, FormEvent.INVALID, 2, field="email")
    db.session.commit()

    created = now - timedelta(days=2)
    done, due, skipped = StepStatus.DONE, StepStatus.DUE, StepStatus.SKIPPED
    completed = JourneyStatus.COMPLETED
    journeys = {
        "j1": _journey(
            ws,
            funnel,
            page,
            created,
            [(done, 0, 1), (done, 0, 3), (done, 3, 5)],
            status=completed,
            completed_at=created + timedelta(hours=5),
            utm_source="google",
            utm_medium="cpc",
            utm_campaign="spring",
            last_utm_source="newsletter",
            last_utm_medium="email",
            last_utm_campaign="spring",
            referrer_host="a.example",
            last_referrer_host="a.example",
            share_code="K1",
        ),
        "j2": _journey(
            ws,
            funnel,
            page,
            created,
            [(done, 0, 2), (done, 0, 1), (due, -24, None)],
            utm_source="google",
            utm_medium="cpc",
            utm_campaign="spring",
            last_utm_source="google",
            last_utm_medium="cpc",
            last_utm_campaign="spring",
        ),
        "j3": _journey(
            ws,
            funnel,
            embed,
            created,
            [(due, 48, None), (done, 0, 10), (StepStatus.PENDING, None, None)],
        ),
        "j4": _journey(
            ws,
            funnel,
            embed,
            created,
            [(done, 0, 4), (done, 0, 0.5), (skipped, None, 4.5)],
            status=completed,
            completed_at=created + timedelta(hours=4.5),
        ),
        "old": _journey(
            ws,
            funnel,
            page,
            now - timedelta(days=40),
            [(done, 0, 1), (done, 0, 1), (done, 1, 2)],
            status=completed,
            completed_at=now - timedelta(days=40) + timedelta(hours=2),
        ),
    }
    return World(
        workspace=ws,
        funnel=funnel,
        page=page,
        embed=embed,
        stages={"Welcome": welcome.id, "Call": call_stage.id},
        activities={"Profile": profile.id, "Check": check.id, "Call": call.id},
        journeys=journeys,
        today=today,
    )
