"""Guard rounds: checkpoints, rounds, round runs and checkpoint scans.

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-07 11:00:00.000000

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = '0014'
# Written against 0012; the lead re-chains it after the other migrations of its merge.
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('checkpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=True),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('radius_m', sa.Integer(), nullable=False),
    sa.Column('instructions', sa.Text(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('short_code', sa.String(length=6), nullable=False),
    sa.Column('nfc_serial', sa.String(length=64), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['areas.id'], name=op.f('fk_checkpoints_area_id_areas'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_checkpoints_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkpoints')),
    sa.UniqueConstraint('org_id', 'short_code', name='uq_checkpoints_org_short_code'),
    sa.UniqueConstraint('token', name=op.f('uq_checkpoints_token'))
    )
    op.create_table('rounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('ordered', sa.Boolean(), nullable=False),
    sa.Column('weekdays', sa.JSON(), nullable=False),
    sa.Column('window', sa.String(length=11), nullable=False),
    sa.Column('every_minutes', sa.Integer(), nullable=True),
    sa.Column('grace_minutes', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_rounds_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rounds'))
    )
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rounds_org_id'), ['org_id'], unique=False)
    op.create_table('round_checkpoints',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('checkpoint_id', sa.Integer(), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['checkpoint_id'], ['checkpoints.id'], name=op.f('fk_round_checkpoints_checkpoint_id_checkpoints')),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_round_checkpoints_round_id_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', 'position', name=op.f('pk_round_checkpoints'))
    )
    with op.batch_alter_table('round_checkpoints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_round_checkpoints_checkpoint_id'), ['checkpoint_id'], unique=False)
    op.create_table('round_runs',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('started_at_device', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at_device', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.Text(), nullable=True),
    sa.Column('clock_skew_ms', sa.Integer(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_round_runs_device_id_devices')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_round_runs_org_id_organisations')),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_round_runs_round_id_rounds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_round_runs'))
    )
    with op.batch_alter_table('round_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_round_runs_device_id'), ['device_id'], unique=False)
        batch_op.create_index('ix_round_runs_round_started', ['round_id', 'started_at'], unique=False)
    op.create_table('checkpoint_scans',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('checkpoint_id', sa.Integer(), nullable=False),
    sa.Column('round_run_id', sa.Uuid(), nullable=True),
    sa.Column('scanned_at_device', sa.DateTime(timezone=True), nullable=False),
    sa.Column('scanned_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('clock_skew_ms', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=4), nullable=True),
    sa.Column('typed', sa.Boolean(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('accuracy_m', sa.Float(), nullable=True),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['checkpoint_id'], ['checkpoints.id'], name=op.f('fk_checkpoint_scans_checkpoint_id_checkpoints')),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_checkpoint_scans_device_id_devices')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_checkpoint_scans_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkpoint_scans'))
    )
    with op.batch_alter_table('checkpoint_scans', schema=None) as batch_op:
        batch_op.create_index('ix_checkpoint_scans_device_checkpoint', ['device_id', 'checkpoint_id', 'scanned_at'], unique=False)
        batch_op.create_index('ix_checkpoint_scans_org_scanned', ['org_id', 'scanned_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_checkpoint_scans_round_run_id'), ['round_run_id'], unique=False)


def downgrade():
    op.drop_table('checkpoint_scans')
    op.drop_table('round_runs')
    op.drop_table('round_checkpoints')
    op.drop_table('rounds')
    op.drop_table('checkpoints')
