"""Workspace sessions on the server and failed-login counts shared by every worker.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('workspace_sessions',
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=20), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_workspace_sessions_person_id_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id_hash', name=op.f('pk_workspace_sessions'))
    )
    with op.batch_alter_table('workspace_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workspace_sessions_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_workspace_sessions_created_at'), ['created_at'], unique=False)

    op.create_table('login_failures',
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('forget_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_login_failures'))
    )
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_failures_forget_at'), ['forget_at'], unique=False)


def downgrade():
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_failures_forget_at'))

    op.drop_table('login_failures')
    with op.batch_alter_table('workspace_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workspace_sessions_created_at'))
        batch_op.drop_index(batch_op.f('ix_workspace_sessions_person_id'))

    op.drop_table('workspace_sessions')
