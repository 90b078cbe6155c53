"""ingestion log, mapped origins

The ingestion log of every call a door answers for an origin (kept 30 days; the worker prunes
it), and on origins a JMESPath field mapping and the secret of their inbound hook URL.

Revision ID: 0004_ingest
Revises: 0004_keys
Create Date: 2026-12-06 08:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from leadsite.models.types import UTCDateTime


# revision identifiers, used by Alembic.
revision = '0004_ingest'
down_revision = "0004_keys"
branch_labels = None
depends_on = None


def _json():
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade():
    op.create_table(
        "ingestion_entries",
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("origin_id", sa.String(length=40), nullable=False),
        sa.Column("lead_id", sa.String(length=40), nullable=True),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("dialect", sa.String(length=40), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("codes", _json(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("query", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("details", _json(), nullable=True),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["origin_id"], ["origins.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ingestion_entries_origin_id", "ingestion_entries", ["origin_id", "id"])
    op.create_index("ix_ingestion_entries_at", "ingestion_entries", ["at"])
    op.create_index("ix_ingestion_entries_lead_id", "ingestion_entries", ["lead_id"])
    with op.batch_alter_table("origins") as batch_op:
        batch_op.add_column(sa.Column("mapping", _json(), nullable=True))
        batch_op.add_column(sa.Column("hook_secret", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("origins") as batch_op:
        batch_op.drop_column("hook_secret")
        batch_op.drop_column("mapping")
    op.drop_index("ix_ingestion_entries_lead_id", table_name="ingestion_entries")
    op.drop_index("ix_ingestion_entries_at", table_name="ingestion_entries")
    op.drop_index("ix_ingestion_entries_origin_id", table_name="ingestion_entries")
    op.drop_table("ingestion_entries")
