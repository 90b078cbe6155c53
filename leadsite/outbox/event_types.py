"""The event types a lead's timeline records and webhooks carry."""

LEAD_CREATED = "lead.created"
LEAD_UPDATED = "lead.updated"
LEAD_CONFIRMED = "lead.confirmed"
LEAD_OPTED_OUT = "lead.opted_out"
LEAD_ERASED = "lead.erased"
JOURNEY_CREATED = "journey.created"
JOURNEY_STAGE_ENTERED = "journey.stage_entered"
JOURNEY_STEP_COMPLETED = "journey.step_completed"
JOURNEY_COMPLETED = "journey.completed"
# A double opt-in journey not confirmed in time (`Funnel.confirm_within_hours`).
JOURNEY_CANCELLED = "journey.cancelled"
# On the timeline only; webhooks cannot subscribe to these.
JOURNEY_STEP_FAILED = "journey.step_failed"
# A double opt-in journey starts when the lead confirms (its stages follow as
# `journey.stage_entered`).
JOURNEY_STARTED = "journey.started"
# A request the lead made as they registered (vcita's `request_title` and its data).
LEAD_REQUEST = "lead.request"
LEAD_HELD = "lead.held"  # a public form submission kept for staff to accept or delete
# A staff task given back to the team: its assignee was deactivated (`journeys.departed`).
JOURNEY_TASK_UNASSIGNED = "journey.task_unassigned"

WEBHOOK_EVENTS = (
    LEAD_CREATED,
    LEAD_UPDATED,
    LEAD_CONFIRMED,
    LEAD_OPTED_OUT,
    JOURNEY_CREATED,
    JOURNEY_STAGE_ENTERED,
    JOURNEY_STEP_COMPLETED,
    JOURNEY_COMPLETED,
    JOURNEY_CANCELLED,
)
