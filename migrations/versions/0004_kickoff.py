"""referrals and points (the KickoffLabs dialect)

Every lead gets a share code (`social_id`, unique per workspace), the lead who referred it
(`referred_by`), the count of the leads it referred (`referrals`) and a contest score (`points`).
Existing leads are given their share code here.

Revision ID: 0004_kickoff
Revises: 0004_dial
Create Date: 2026-12-06 08:00:00.000000

"""
import os

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_kickoff'
down_revision = "0004_dial"
branch_labels = None
depends_on = None

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # as leadsite.ids.share_code, frozen here
BATCH = 1000


def _code():
    value = int.from_bytes(os.urandom(5))
    return "".join(_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(8)))


def upgrade():
    # Not in batch mode: on SQLite that rebuilds the table from its reflection, which leaves out
    # the leads list's expression indexes. Adding columns and indexes is plain DDL on both.
    op.add_column('leads', sa.Column('social_id', sa.String(length=16), nullable=True))
    # No foreign key: SQLite adds one to an existing table only by rebuilding it (see above).
    # Leads are never deleted one by one (erasing keeps the row), so the id stays good.
    op.add_column('leads', sa.Column('referred_by', sa.String(length=40), nullable=True))
    op.add_column('leads', sa.Column('referrals', sa.Integer(), server_default='0', nullable=False))
    op.add_column('leads', sa.Column('points', sa.Integer(), server_default='0', nullable=False))
    op.create_index(op.f('ix_leads_referred_by'), 'leads', ['referred_by'], unique=False)
    op.create_index(
        'ix_leads_workspace_social_id', 'leads', ['workspace_id', 'social_id'], unique=True
    )
    leads = sa.table('leads', sa.column('id', sa.String), sa.column('social_id', sa.String))
    connection = op.get_bind()
    while True:
        ids = connection.scalars(
            sa.select(leads.c.id).where(leads.c.social_id.is_(None)).limit(BATCH)
        ).all()
        if not ids:
            break
        connection.execute(
            leads.update().where(leads.c.id == sa.bindparam('lead_id')),
            [{'lead_id': lead_id, 'social_id': _code()} for lead_id in ids],
        )


def downgrade():
    op.drop_index('ix_leads_workspace_social_id', table_name='leads')
    op.drop_index(op.f('ix_leads_referred_by'), table_name='leads')
    for name in ('points', 'referrals', 'referred_by', 'social_id'):
        op.drop_column('leads', name)
