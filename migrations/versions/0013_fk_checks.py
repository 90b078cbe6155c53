"""journey_steps, journeys, events: one foreign key for two, on PostgreSQL

Every foreign key a new lead's rows pay for is a check: an index probe and a KEY SHARE lock on a
parent row that every lead of an import shares (issue 17: the checks, about 31 a lead, were
over half of PostgreSQL's CPU a new lead; bench/README.md, "Indexes a new lead no longer
writes"). Two pairs of them name one parent row twice:

- a step's activity and stage (five steps a lead): the activity belongs to one stage and never
  moves, so one key (activity_id, stage_id) -> activities (id, stage_id) is one check, and the
  stronger rule that the step's stage is its activity's (activities unique on (id, stage_id):
  a few rows). Deleting an activity clears the steps' activity_id only (`SET NULL
  (activity_id)`, PostgreSQL 15), as before. Deleting a stage cleared their stage_id by its own
  key: the funnel editor's `delete_stage` now clears both (the only path that deletes a stage;
  funnels and workspaces, which would take the journeys with them, are never deleted).
- a journey's and an event's lead and workspace (four rows a lead): one key (lead_id,
  workspace_id) -> leads (id, workspace_id), ON DELETE CASCADE as both were: the workspace's
  deletion reaches them through their lead's. It needs leads unique on (id, workspace_id): an
  index entry more for each new lead, measured against the four checks it saves.

SQLite keeps its keys: it sets every column of a composite key NULL (no column list), so
deleting an activity would clear the step's stage too, and changing a key rebuilds the table.
bench/README.md, "One foreign key for two", has the measurements.

Revision ID: 0013_fk_checks
Revises: 0012_scans
Create Date: 2026-12-07 15:20:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013_fk_checks'
down_revision = '0012_scans'
branch_labels = None
depends_on = None

LEAD_AND_WORKSPACE = ('journeys', 'events')  # tables with one key to leads (id, workspace_id)


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

    op.create_unique_constraint('uq_leads_id_workspace_id', 'leads', ['id', 'workspace_id'])
    for table in LEAD_AND_WORKSPACE:
        op.create_foreign_key(
            f'fk_{table}_lead_workspace',
            table,
            'leads',
            ['lead_id', 'workspace_id'],
            ['id', 'workspace_id'],
            ondelete='CASCADE',
        )
        op.drop_constraint(f'fk_{table}_lead_id_leads', table, type_='foreignkey')
        op.drop_constraint(f'fk_{table}_workspace_id_workspaces', table, type_='foreignkey')


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table in LEAD_AND_WORKSPACE:
        op.create_foreign_key(
            f'fk_{table}_lead_id_leads', table, 'leads', ['lead_id'], ['id'], ondelete='CASCADE'
        )
        op.create_foreign_key(
            f'fk_{table}_workspace_id_workspaces',
            table,
            'workspaces',
            ['workspace_id'],
            ['id'],
            ondelete='CASCADE',
        )
        op.drop_constraint(f'fk_{table}_lead_workspace', table, type_='foreignkey')
    op.drop_constraint('uq_leads_id_workspace_id', 'leads', type_='unique')

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
