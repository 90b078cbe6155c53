"""api key scopes and publishable keys

Every existing key gets every scope, so that nothing that works today stops working: keys made
from now on hold the scopes chosen for them. A publishable key (`lpk_`) registers leads only,
through the origins it is bound to (`origin_ids`); its `token` is kept, being public.

Revision ID: 0004_keys
Revises: 0004_public
Create Date: 2026-12-06 08:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '0004_keys'
down_revision = "0004_public"
branch_labels = None
depends_on = None

ALL_SCOPES = "leads:write leads:read admin"


def upgrade():
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('scopes', sa.String(length=200), nullable=False, server_default=ALL_SCOPES)
        )
        batch_op.add_column(
            sa.Column('publishable', sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column(
                'origin_ids',
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column('token', sa.String(length=80), nullable=True))


def downgrade():
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_column('token')
        batch_op.drop_column('origin_ids')
        batch_op.drop_column('publishable')
        batch_op.drop_column('scopes')
