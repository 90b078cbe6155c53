"""journey_steps: one foreign key to activities (id, stage_id) for two, on PostgreSQL

A new lead's five steps paid two foreign key checks each for their activity and stage (issue
17: each an index probe and a KEY SHARE lock on a row every lead of an import shares; the
foreign keys were over half of PostgreSQL's CPU a new lead, bench/README.md, "Indexes a new lead
no longer writes"). The activity already belongs to one stage and never moves to another, so
one key (activity_id, stage_id) -> activities (id, stage_id) is one check, and a stronger rule:
the step's stage is its activity's. It needs activities unique on (id, stage_id): a few rows.

Deleting an activity clears the steps' activity_id only (`SET NULL (activity_id)`,
PostgreSQL 15), as before. Deleting a stage cleared their stage_id by its own key: the funnel
editor's `delete_stage` now does it (the only path that deletes a stage; funnels and
workspaces, which would take the journeys with them, are never deleted).

SQLite keeps its two keys: it sets every column of a composite key NULL (no column list), so
deleting an activity would clear the step's stage too, and changing a key rebuilds the table.
bench/README.md, "One foreign key a step instead of two", has the measurements.

Revision ID: 0013_step_activity_fk
Revises: 0012_scans
Create Date: 2026-12-07 15:20:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013_step_activity_fk'
down_revision = '0012_scans'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.create_unique_constraint('uq_activities_id_stage_id', 'activities', ['id', 'stage_id'])
    # The new key first: a step is checked throughout (all in the one transaction).
    op.create_foreign_key(
        'fk_journey_steps_activity_stage',
        'journey_steps',
        'activities',
        ['activity_id', 'stage_id'],
        ['id', 'stage_id'],
        ondelete='SET NULL (activity_id)',
    )
    op.drop_constraint('fk_journey_steps_activity_id_activities', 'journey_steps', type_='foreignkey')
    op.drop_constraint('fk_journey_steps_stage_id_stages', 'journey_steps', type_='foreignkey')


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.create_foreign_key(
        'fk_journey_steps_activity_id_activities',
        'journey_steps',
        'activities',
        ['activity_id'],
        ['id'],
        ondelete='SET NULL',
    )
    op.create_foreign_key(
        'fk_journey_steps_stage_id_stages',
        'journey_steps',
        'stages',
        ['stage_id'],
        ['id'],
        ondelete='SET NULL',
    )
    op.drop_constraint('fk_journey_steps_activity_stage', 'journey_steps', type_='foreignkey')
    op.drop_constraint('uq_activities_id_stage_id', 'activities', type_='unique')
