"""Urgent alerts: the on-call rota, Web Push subscriptions, alerts and their deliveries.

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-07 10:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
# Chained after 0012 here; the lead re-chains it after the other migrations when merging.
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('oncall_levels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.Column('minutes', sa.SmallInteger(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_oncall_levels_org_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oncall_levels')),
    sa.UniqueConstraint('org_id', 'position', name='uq_oncall_levels_org_pos')
    )
    op.create_table('oncall_rotas',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_oncall_rotas_org_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_id', name=op.f('pk_oncall_rotas'))
    )
    op.create_table('oncall_members',
    sa.Column('level_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['level_id'], ['oncall_levels.id'], name=op.f('fk_oncall_members_level_id_oncall_levels'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_oncall_members_person_id_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('level_id', 'person_id', name=op.f('pk_oncall_members'))
    )
    op.create_table('push_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('endpoint', sa.Text(), nullable=False),
    sa.Column('endpoint_hash', sa.String(length=64), nullable=False),
    sa.Column('p256dh', sa.String(length=120), nullable=False),
    sa.Column('auth', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_push_subscriptions_person_id_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_push_subscriptions')),
    sa.UniqueConstraint('endpoint_hash', name=op.f('uq_push_subscriptions_endpoint_hash'))
    )
    with op.batch_alter_table('push_subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_push_subscriptions_person_id'), ['person_id'], unique=False)

    op.create_table('alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Uuid(), nullable=False),
    sa.Column('episode', sa.SmallInteger(), nullable=False),
    sa.Column('category_code', sa.String(length=40), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('level', sa.SmallInteger(), nullable=False),
    sa.Column('next_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by', sa.Integer(), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('mail_state', sa.String(length=10), nullable=False),
    sa.Column('mail_owner', sa.String(length=200), nullable=True),
    sa.Column('mail_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('mail_attempts', sa.SmallInteger(), nullable=False),
    sa.Column('mail_error', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['acknowledged_by'], ['persons.id'], name=op.f('fk_alerts_acknowledged_by_persons'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['area_id'], ['areas.id'], name=op.f('fk_alerts_area_id_areas'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_alerts_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_alerts_org_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts')),
    sa.UniqueConstraint('incident_id', 'episode', name='uq_alerts_incident_episode')
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index('ix_alerts_next_at', ['next_at'], unique=False)
        batch_op.create_index('ix_alerts_org_opened', ['org_id', 'opened_at'], unique=False)

    op.create_table('alert_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alert_id', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.SmallInteger(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.SmallInteger(), nullable=False),
    sa.Column('next_try_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lease_owner', sa.String(length=200), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_status', sa.SmallInteger(), nullable=True),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_alert_deliveries_alert_id_alerts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subscription_id'], ['push_subscriptions.id'], name=op.f('fk_alert_deliveries_subscription_id_push_subscriptions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_deliveries')),
    sa.UniqueConstraint('alert_id', 'subscription_id', name='uq_alert_deliveries_alert_sub')
    )
    with op.batch_alter_table('alert_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_alert_deliveries_status_next', ['status', 'next_try_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_alert_deliveries_subscription_id'), ['subscription_id'], unique=False)



def downgrade():
    with op.batch_alter_table('alert_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_deliveries_subscription_id'))
        batch_op.drop_index('ix_alert_deliveries_status_next')

    op.drop_table('alert_deliveries')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_alerts_org_opened')
        batch_op.drop_index('ix_alerts_next_at')

    op.drop_table('alerts')
    with op.batch_alter_table('push_subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_push_subscriptions_person_id'))

    op.drop_table('push_subscriptions')
    op.drop_table('oncall_members')
    op.drop_table('oncall_rotas')
    op.drop_table('oncall_levels')
