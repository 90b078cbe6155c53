"""journey_steps: one index on (journey_id, status) instead of (journey_id)

SQLite without statistics searched a journey's due steps (`journey_id = ? AND status = 'due'`)
through ix_journey_steps_status_due, every due step of every journey: each registration that
updated a lead (its wait-until recheck) read more the more leads there were.

Revision ID: 0010_importspeed
Revises: 0009_idem
Create Date: 2026-12-06 20:35:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010_importspeed'
down_revision = '0009_idem'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('journey_steps') as batch_op:
        batch_op.create_index('ix_journey_steps_journey_status', ['journey_id', 'status'])
        batch_op.drop_index('ix_journey_steps_journey_id')


def downgrade():
    with op.batch_alter_table('journey_steps') as batch_op:
        batch_op.create_index('ix_journey_steps_journey_id', ['journey_id'])
        batch_op.drop_index('ix_journey_steps_journey_status')
