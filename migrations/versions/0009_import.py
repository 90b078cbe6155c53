"""lead_imports, lead_import_chunks, lead_import_rejections: CSV imports kept in the database
and run by the worker

Revision ID: 0009_import
Revises: 0008_i18n
Create Date: 2026-12-06 17:10:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from leadsite.models.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = '0009_import'
down_revision = '0009_ops'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade():
    op.create_table(
        'lead_imports',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('workspace_id', sa.String(length=40), nullable=False),
        sa.Column('user_id', sa.String(length=40), nullable=True),
        sa.Column('filename', sa.String(length=200), nullable=False),
        sa.Column('columns', JSON, nullable=False),
        sa.Column('row_count', sa.Integer(), nullable=False),
        sa.Column('byte_count', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('funnel_id', sa.String(length=40), nullable=True),
        sa.Column('origin_id', sa.String(length=40), nullable=True),
        sa.Column('mapping', JSON, nullable=False),
        sa.Column('cancel_requested', sa.Boolean(), nullable=False),
        sa.Column('next_row', sa.Integer(), nullable=False),
        sa.Column('chunk_done', JSON, nullable=False),
        sa.Column('created_count', sa.Integer(), nullable=False),
        sa.Column('updated_count', sa.Integer(), nullable=False),
        sa.Column('rejected_count', sa.Integer(), nullable=False),
        sa.Column('locked_until', UTCDateTime(timezone=True), nullable=True),
        sa.Column('lease_token', sa.String(length=32), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('started_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('finished_at', UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_lead_imports_workspace_id', 'lead_imports', ['workspace_id', 'created_at'])
    op.create_table(
        'lead_import_chunks',
        sa.Column('import_id', sa.String(length=64), nullable=False),
        sa.Column('first_row', sa.Integer(), nullable=False),
        sa.Column('row_count', sa.Integer(), nullable=False),
        sa.Column('data', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['import_id'], ['lead_imports.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('import_id', 'first_row'),
    )
    op.create_table(
        'lead_import_rejections',
        sa.Column('import_id', sa.String(length=64), nullable=False),
        sa.Column('row_index', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('label', sa.String(length=300), nullable=False),
        sa.Column('cells', JSON, nullable=False),
        sa.Column('reasons', JSON, nullable=False),
        sa.ForeignKeyConstraint(['import_id'], ['lead_imports.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('import_id', 'row_index'),
    )


def downgrade():
    op.drop_table('lead_import_rejections')
    op.drop_table('lead_import_chunks')
    op.drop_index('ix_lead_imports_workspace_id', table_name='lead_imports')
    op.drop_table('lead_imports')
