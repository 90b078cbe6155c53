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


# Plain ALTER TABLE on both databases (SQLite 3.35+ drops a column in place): a batch operation
# would copy `events`, the biggest table, and reflect the tables it refers to.
def upgrade():
    for table in ("events", "outbox_messages"):
        op.add_column(table, sa.Column("request_id", sa.String(length=128), nullable=True))


def downgrade():
    for table in ("outbox_messages", "events"):
        op.drop_column(table, "request_id")
