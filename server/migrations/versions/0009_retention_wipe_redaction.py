"""Retention periods per organisation, purge runs, phone wipes, redacted photos.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 00:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retention_text_days', sa.Integer(), server_default='90', nullable=False))
        batch_op.add_column(sa.Column('retention_report_days', sa.Integer(), server_default='730', nullable=False))
        batch_op.add_column(sa.Column('retention_audit_days', sa.Integer(), server_default='730', nullable=False))
        batch_op.add_column(sa.Column('retention_digest_days', sa.Integer(), server_default='365', nullable=False))
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text_purged_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wipe_requested_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('wiped_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.add_column(sa.Column('redacted', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index('ix_photos_device_created', ['uploaded_by_device_id', 'created_at'], unique=False)
    op.create_table('purge_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('lease_owner', sa.String(length=200), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('counts', sa.JSON(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_purge_runs_org_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purge_runs')),
    sa.UniqueConstraint('org_id', 'day', name='uq_purge_runs_org_day')
    )


def downgrade():
    op.drop_table('purge_runs')
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.drop_index('ix_photos_device_created')
        batch_op.drop_column('redacted')
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_column('wiped_at')
        batch_op.drop_column('wipe_requested_at')
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_column('text_purged_at')
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('retention_digest_days')
        batch_op.drop_column('retention_audit_days')
        batch_op.drop_column('retention_report_days')
        batch_op.drop_column('retention_text_days')
