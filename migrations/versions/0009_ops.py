"""events.request_id, outbox_messages.request_id: the request that made them (X-Request-Id)

Revision ID: 0009_ops
Revises: 0008_i18n
Create Date: 2026-12-06 17:30:00

Expand-only: two nullable columns, which code of the previous release neither reads nor writes.
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "0009_ops"
down_revision = "0009_rollup"
branch_labels = None
depends_on = None


def upgrade():
    for table in ("events", "outbox_messages"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("request_id", sa.String(length=128), nullable=True))


def downgrade():
    for table in ("outbox_messages", "events"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("request_id")
