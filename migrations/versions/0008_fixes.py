"""accent-insensitive lead search: search keys of first and last names

`leads.first_name_key` and `last_name_key` hold the names as the leads search compares them
(`leadsite.models.lead.search_key`: lower case, without accents), so that `garcia` finds García
on both databases through a prefix index. They replace the indexes on lower(first_name) and
lower(last_name), under the same names. Existing leads get their keys here, in batches.

Revision ID: 0008_fixes
Revises: 0007_analytics_ux
Create Date: 2026-12-06 14:10:00.000000

"""
from alembic import op
import sqlalchemy as sa

from leadsite.models.lead import SEARCH_KEY_LENGTH, search_key

# revision identifiers, used by Alembic.
revision = '0008_fixes'
down_revision = '0007_analytics_ux'
branch_labels = None
depends_on = None

NAMES = ('first_name', 'last_name')
BATCH = 5000


def _fill_keys():
    """Each named lead's keys, read and written a batch at a time in id order."""
    bind = op.get_bind()
    read = sa.text(
        'SELECT id, first_name, last_name FROM leads'
        ' WHERE id > :after AND (first_name IS NOT NULL OR last_name IS NOT NULL)'
        ' ORDER BY id LIMIT :batch'
    )
    write = sa.text('UPDATE leads SET first_name_key = :first, last_name_key = :last WHERE id = :id')
    after = ''
    while rows := bind.execute(read, {'after': after, 'batch': BATCH}).all():
        bind.execute(
            write,
            [{'id': id_, 'first': search_key(first), 'last': search_key(last)}
             for id_, first, last in rows],
        )
        after = rows[-1][0]


def upgrade():
    for name in NAMES:
        op.add_column('leads', sa.Column(f'{name}_key', sa.String(SEARCH_KEY_LENGTH)))
    _fill_keys()
    for name in NAMES:
        op.drop_index(f'ix_leads_workspace_{name}', table_name='leads')
        op.create_index(
            f'ix_leads_workspace_{name}',
            'leads',
            ['workspace_id', f'{name}_key'],
            postgresql_ops={f'{name}_key': 'text_pattern_ops'},
        )
    # Statistics for the new indexes (see 0003): without them the planners ignore them.
    op.execute('ANALYZE leads')


def downgrade():
    for name in NAMES:
        op.drop_index(f'ix_leads_workspace_{name}', table_name='leads')
        lower = sa.func.lower(sa.column(name)).label(f'{name}_lower')
        op.create_index(
            f'ix_leads_workspace_{name}',
            'leads',
            ['workspace_id', lower],
            postgresql_ops={f'{name}_lower': 'text_pattern_ops'},
        )
    for name in reversed(NAMES):
        # No batch mode: SQLite (3.35 and later) drops an unindexed column in place, where a
        # rebuilt table would lose the expression indexes it cannot reflect.
        op.drop_column('leads', f'{name}_key')
