"""The åtgärdsplan: actions, their source reports and incidents, and their timeline.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 07:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
# Chained after the walks migration (0011) when both are merged.
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('owner_kind', sa.String(length=20), nullable=False),
    sa.Column('owner_name', sa.String(length=200), nullable=False),
    sa.Column('priority', sa.String(length=10), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('done_date', sa.Date(), nullable=True),
    sa.Column('after_photo', sa.String(length=64), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['persons.id'], name=op.f('fk_actions_created_by_persons'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_actions_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_actions'))
    )
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.create_index('ix_actions_org_created', ['org_id', 'created_at'], unique=False)
        batch_op.create_index('ix_actions_org_status_due', ['org_id', 'status', 'due_date'], unique=False)
    op.create_table('action_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['actions.id'], name=op.f('fk_action_events_action_id_actions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['actor_id'], ['persons.id'], name=op.f('fk_action_events_actor_id_persons'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_events'))
    )
    with op.batch_alter_table('action_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_events_action_id'), ['action_id'], unique=False)
    op.create_table('action_incidents',
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['actions.id'], name=op.f('fk_action_incidents_action_id_actions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_action_incidents_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('action_id', 'incident_id', name=op.f('pk_action_incidents'))
    )
    with op.batch_alter_table('action_incidents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_incidents_incident_id'), ['incident_id'], unique=False)
    op.create_table('action_reports',
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['actions.id'], name=op.f('fk_action_reports_action_id_actions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_action_reports_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('action_id', 'report_id', name=op.f('pk_action_reports'))
    )
    with op.batch_alter_table('action_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_reports_report_id'), ['report_id'], unique=False)


def downgrade():
    op.drop_table('action_reports')
    op.drop_table('action_incidents')
    op.drop_table('action_events')
    op.drop_table('actions')
