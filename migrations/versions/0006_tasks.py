"""my tasks

A partial index of the open staff tasks (`kind = 'staff_task' AND status = 'due'`) by due date,
for the back-office's My tasks and the dashboard's due tasks (`leadsite/journeys/tasks.py`):
they read the earliest due first, a page at a time, joined to their journeys for the
workspace. Open staff tasks are few of all steps, so the index stays small.

On PostgreSQL, statistics of `kind` and `status` together (their most common pairs): without
them the planner multiplies the two selectivities, expects a fifth of the open staff tasks there
are, and sorts them all instead of walking the index in due order up to the page's end (150 ms
against 1 ms for a workspace with 5,000 open tasks; bench/tasks_plan.py).

Revision ID: 0006_tasks
Revises: 0006_stakeholders
Create Date: 2026-12-06 11:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0006_tasks"
down_revision = "0006_stakeholders"
branch_labels = None
depends_on = None

OPEN_STAFF_TASK = sa.text("kind = 'staff_task' AND status = 'due'")


def upgrade():
    op.create_index(
        "ix_journey_steps_open_staff_tasks",
        "journey_steps",
        ["due_at", "id"],
        postgresql_where=OPEN_STAFF_TASK,
        sqlite_where=OPEN_STAFF_TASK,
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE STATISTICS st_journey_steps_kind_status (mcv) ON kind, status FROM journey_steps"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP STATISTICS IF EXISTS st_journey_steps_kind_status")
    op.drop_index("ix_journey_steps_open_staff_tasks", table_name="journey_steps")
