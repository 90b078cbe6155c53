"""ingestion_entries: no index of lead_id (no query can use it; every entry paid for it)

Revision ID: 0010_logcost
Revises: 0010_importspeed
Create Date: 2026-12-06 21:05:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010_logcost'
down_revision = '0010_importspeed'
branch_labels = None
depends_on = None


def upgrade():
    # The one reader of lead_id, a lead's erasure, asks for `lead_id = ? OR body ILIKE ? OR ...`
    # (the refused calls that named the lead name no lead): a scan either way.
    op.drop_index('ix_ingestion_entries_lead_id', table_name='ingestion_entries')


def downgrade():
    op.create_index('ix_ingestion_entries_lead_id', 'ingestion_entries', ['lead_id'])
