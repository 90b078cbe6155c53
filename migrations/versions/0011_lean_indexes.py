"""leads, journeys, events, outbox_messages: no index that no query, unique rule or cascade uses

Each new lead wrote them (issue 17: an import's new leads, about 10 rows each, paid for every
index of every row): leads by referred_by (nothing looks leads up by who referred them),
journeys by origin_id and events by (workspace_id, created_at) (no query reads them so; no
origin or workspace is ever deleted, and such a delete would scan the table once, not once a
row), outbox_messages by workspace_id (every query naming it also names the message, its
endpoint or its lead). bench/README.md, "Indexes a new lead no longer writes", has the list of
the indexes kept and what each serves.

Revision ID: 0011_lean_indexes
Revises: 0010_logcost
Create Date: 2026-12-07 12:10:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011_lean_indexes'
down_revision = '0010_logcost'
branch_labels = None
depends_on = None

# (index, table, columns)
DROPPED = (
    ('ix_leads_referred_by', 'leads', ['referred_by']),
    ('ix_journeys_origin_id', 'journeys', ['origin_id']),
    ('ix_events_workspace_created', 'events', ['workspace_id', 'created_at']),
    ('ix_outbox_messages_workspace_id', 'outbox_messages', ['workspace_id']),
)


def upgrade():
    for name, table, _ in DROPPED:
        op.drop_index(name, table_name=table)


def downgrade():
    for name, table, columns in DROPPED:
        op.create_index(name, table, columns)
