"""journey rollup: `journey_counts` and `journey_durations`, backfilled from the journeys

The funnel report reads these instead of journeys and their steps; the journey engine keeps
them exact in each change's transaction (leadsite/analytics/rollup_session.py). The backfill
counts every stored journey with the same function (leadsite/analytics/rollup_backfill.py):
18 to 21 minutes for 1,000,000 journeys on the shared machine under load (bench/README.md).

Revision ID: 0009_rollup
Revises: 0008_i18n
Create Date: 2026-12-06 17:10:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0009_rollup'
down_revision = '0008_i18n'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'journey_counts',
        sa.Column('funnel_id', sa.String(length=40), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('origin_id', sa.String(length=40), nullable=False),
        sa.Column('metric', sa.String(length=24), nullable=False),
        sa.Column('item', sa.String(length=255), nullable=False),
        sa.Column('bucket', sa.BigInteger(), nullable=False),
        sa.Column('workspace_id', sa.String(length=40), nullable=False),
        sa.Column('n', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['funnel_id'], ['funnels.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('funnel_id', 'day', 'origin_id', 'metric', 'item', 'bucket'),
    )
    op.create_table(
        'journey_durations',
        sa.Column('journey_id', sa.String(length=40), nullable=False),
        sa.Column('activity_id', sa.String(length=40), nullable=False),
        sa.Column('funnel_id', sa.String(length=40), nullable=False),
        sa.Column('origin_id', sa.String(length=40), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('bucket', sa.BigInteger(), nullable=False),
        sa.Column('seconds', sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(['funnel_id'], ['funnels.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['journey_id'], ['journeys.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('journey_id', 'activity_id'),
    )
    op.create_index(
        'ix_journey_durations_bucket',
        'journey_durations',
        ['funnel_id', 'activity_id', 'bucket', 'day'],
        unique=False,
    )
    from leadsite.analytics.rollup_backfill import backfill

    backfill(op.get_bind())


def downgrade():
    op.drop_index('ix_journey_durations_bucket', table_name='journey_durations')
    op.drop_table('journey_durations')
    op.drop_table('journey_counts')
