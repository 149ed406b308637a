"""Sharing agreements between organisations.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 22:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sharing_agreements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('from_org_id', sa.Integer(), nullable=False),
    sa.Column('to_org_id', sa.Integer(), nullable=False),
    sa.Column('detail', sa.String(length=10), nullable=False),
    sa.Column('categories', sa.JSON(), nullable=True),
    sa.Column('areas', sa.JSON(), nullable=True),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("detail IN ('counts', 'reports', 'full')", name=op.f('ck_sharing_agreements_detail')),
    sa.CheckConstraint('from_org_id <> to_org_id', name=op.f('ck_sharing_agreements_two_orgs')),
    sa.ForeignKeyConstraint(['from_org_id'], ['organisations.id'], name=op.f('fk_sharing_agreements_from_org_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['to_org_id'], ['organisations.id'], name=op.f('fk_sharing_agreements_to_org_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sharing_agreements'))
    )
    with op.batch_alter_table('sharing_agreements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sharing_agreements_from_org_id'), ['from_org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sharing_agreements_to_org_id'), ['to_org_id'], unique=False)


def downgrade():
    with op.batch_alter_table('sharing_agreements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sharing_agreements_to_org_id'))
        batch_op.drop_index(batch_op.f('ix_sharing_agreements_from_org_id'))
    op.drop_table('sharing_agreements')
