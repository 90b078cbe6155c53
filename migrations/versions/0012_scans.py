"""leads held, journeys awaiting: partial indexes for the few rows that queries look for

bench/scans.py (bench/README.md, "Whole-table reads at 100,000 leads") found two reads of a
whole table by a condition no index held: the leads list's count of held leads (every view of
the list: `held IS true`, 42-63 ms at 100,000 leads on PostgreSQL), which the held list and a
lead's erasure ask too, and the housekeeping's search for journeys awaiting confirmation past
their window (`status = 'awaiting'`, 23-35 ms, every quarter of an hour). Held leads and awaiting
journeys are few of all, and only they are written to these indexes: a new lead that is not held,
and a journey that is not awaiting, pay nothing for them.

Each index's condition is written as the queries compare (SQLite uses a partial index only for a
query whose WHERE names the same term).

Revision ID: 0012_scans
Revises: 0011_lean_indexes
Create Date: 2026-12-07 13:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012_scans'
down_revision = '0011_lean_indexes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        'ix_leads_workspace_held',
        'leads',
        ['workspace_id', 'created_at', 'id'],
        postgresql_where=sa.text('held IS true'),
        sqlite_where=sa.text('held IS 1'),
    )
    op.create_index(
        'ix_journeys_awaiting_created',
        'journeys',
        ['created_at'],
        postgresql_where=sa.text("status = 'awaiting'"),
        sqlite_where=sa.text("status = 'awaiting'"),
    )


def downgrade():
    op.drop_index('ix_journeys_awaiting_created', table_name='journeys')
    op.drop_index('ix_leads_workspace_held', table_name='leads')
