"""my tasks

A partial index of the open staff tasks (`kind = 'staff_task' AND status = 'due'`) by due date,
for the back-office's My tasks and the dashboard's due tasks (`leadsite/journeys/tasks.py`):
they read the earliest due first, a page at a time, joined to their journeys for the
workspace. Open staff tasks are few of all steps, so the index stays small.

Revision ID: 0006_tasks
Revises: 0005_journeys
Create Date: 2026-12-06 11:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0006_tasks"
down_revision = "0005_journeys"
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


def downgrade():
    op.drop_index("ix_journey_steps_open_staff_tasks", table_name="journey_steps")
