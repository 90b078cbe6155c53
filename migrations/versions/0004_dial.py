"""dialects: a workspace's default API origin, one-time journey sign-in links

`workspaces.default_origin_id` names the API origin that serves calls naming none (the chatbot
and vcita dialects, `POST /api/v1/leads` without `ref`); `journey_sessions` holds the one-time
links of `POST /api/v1/sessions` (the SHA-256 of each token).

Revision ID: 0004_dial
Revises: 0004_accounts
Create Date: 2026-12-06 08:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import leadsite.models.types


# revision identifiers, used by Alembic.
revision = '0004_dial'
down_revision = "0004_accounts"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('workspaces', schema=None) as batch_op:
        batch_op.add_column(sa.Column('default_origin_id', sa.String(length=40), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_workspaces_default_origin_id_origins'),
            'origins', ['default_origin_id'], ['id'], ondelete='SET NULL',
        )

    op.create_table('journey_sessions',
    sa.Column('workspace_id', sa.String(length=40), nullable=False),
    sa.Column('journey_id', sa.String(length=40), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', leadsite.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', leadsite.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', leadsite.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['journey_id'], ['journeys.id'], name=op.f('fk_journey_sessions_journey_id_journeys'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_journey_sessions_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journey_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_journey_sessions_token_hash'))
    )
    with op.batch_alter_table('journey_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_journey_sessions_journey_id'), ['journey_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_journey_sessions_workspace_id'), ['workspace_id'], unique=False)


def downgrade():
    with op.batch_alter_table('journey_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_journey_sessions_workspace_id'))
        batch_op.drop_index(batch_op.f('ix_journey_sessions_journey_id'))
    op.drop_table('journey_sessions')
    with op.batch_alter_table('workspaces', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_workspaces_default_origin_id_origins'), type_='foreignkey')
        batch_op.drop_column('default_origin_id')
