"""idempotency_records.registered: what the request registered, written with the registration

Revision ID: 0009_idem
Revises: 0009_import
Create Date: 2026-12-06 18:10:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0009_idem'
down_revision = '0009_import'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade():
    # Nullable, no default: the previous release's code runs against it unchanged.
    with op.batch_alter_table('idempotency_records') as batch_op:
        batch_op.add_column(sa.Column('registered', JSON, nullable=True))


def downgrade():
    with op.batch_alter_table('idempotency_records') as batch_op:
        batch_op.drop_column('registered')
