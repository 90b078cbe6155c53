"""accounts: activation per membership, server-side sessions, invitations

`memberships.active` replaces the global `users.active` as what the back-office switches: an
administrator deactivates someone in their own workspace only. A user deactivated before this
revision was deactivated in the one workspace they belonged to (the old code removed the
membership when there were more), so their memberships inherit the flag and the user is active.

`user_sessions`: one row per signed-in browser, checked on every request and revoked at sign-out.
`invitations`: emailed single-use links that replace the one-time passwords.

Revision ID: 0004_accounts
Revises: 0003
Create Date: 2026-12-06 08:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import leadsite.models.types


# revision identifiers, used by Alembic.
revision = '0004_accounts'
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.add_column(sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False))
    users = sa.table('users', sa.column('id', sa.String), sa.column('active', sa.Boolean))
    memberships = sa.table(
        'memberships', sa.column('user_id', sa.String), sa.column('active', sa.Boolean)
    )
    inactive = sa.select(users.c.id).where(users.c.active.is_(sa.false()))
    op.execute(
        memberships.update().where(memberships.c.user_id.in_(inactive)).values(active=sa.false())
    )
    op.execute(users.update().values(active=sa.true()))

    op.create_table('user_sessions',
    sa.Column('user_id', sa.String(length=40), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', leadsite.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', leadsite.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('user_agent', sa.String(length=300), nullable=True),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('revoked_at', leadsite.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_user_sessions_token_hash'))
    )
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_sessions_user_id'), ['user_id'], unique=False)

    op.create_table('invitations',
    sa.Column('workspace_id', sa.String(length=40), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('invited_by_id', sa.String(length=40), nullable=True),
    sa.Column('created_at', leadsite.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', leadsite.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', leadsite.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', leadsite.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'], name=op.f('fk_invitations_invited_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_invitations_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitations')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_invitations_token_hash'))
    )
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitations_workspace_id'), ['workspace_id'], unique=False)


def downgrade():
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitations_workspace_id'))
    op.drop_table('invitations')
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_sessions_user_id'))
    op.drop_table('user_sessions')
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_column('active')
