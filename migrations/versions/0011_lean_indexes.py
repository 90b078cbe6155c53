"""leads, journeys, events, outbox_messages: no index that no query, unique rule or cascade uses

Each new lead wrote them (issue 17: an import's new leads, about 10 rows each, paid for every
index of every row): leads by referred_by (nothing looks leads up by who referred them),
journeys by origin_id and events by (workspace_id, created_at) (no query reads them so; no
origin or workspace is ever deleted, and such a delete would scan the table once, not once a
row), outbox_messages by workspace_id (every query naming it also names the message, its
endpoint or its lead). bench/README.md, "Indexes a new lead no longer writes", has the list of
the indexes kept and what each serves.

On PostgreSQL, leads' unique (workspace_id, email) and (workspace_id, phone) become their prefix
indexes (text_pattern_ops), made unique: those served the match's `=` already (the constraints'
own indexes were read by no query), and one index does the rule's work as well. SQLite keeps its
constraints, which serve prefixes as ranges (altering them would rebuild the table).

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


UNIQUE_BY_PATTERN = ('email', 'phone')  # leads' identifiers with a prefix index on PostgreSQL


def _pattern_index(column, unique):
    op.drop_index(f'ix_leads_workspace_{column}_pattern', table_name='leads')
    op.create_index(
        f'ix_leads_workspace_{column}_pattern',
        'leads',
        ['workspace_id', column],
        unique=unique,
        postgresql_ops={column: 'text_pattern_ops'},
    )


def upgrade():
    for name, table, _ in DROPPED:
        op.drop_index(name, table_name=table)
    if op.get_bind().dialect.name == 'postgresql':
        # The unique index first: the rule holds throughout (all in the one transaction).
        for column in UNIQUE_BY_PATTERN:
            _pattern_index(column, unique=True)
            op.drop_constraint(f'uq_leads_workspace_id_{column}', 'leads', type_='unique')


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for column in UNIQUE_BY_PATTERN:
            op.create_unique_constraint(
                f'uq_leads_workspace_id_{column}', 'leads', ['workspace_id', column]
            )
            _pattern_index(column, unique=False)
    for name, table, columns in DROPPED:
        op.create_index(name, table, columns)
