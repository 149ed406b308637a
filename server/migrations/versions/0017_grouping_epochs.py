"""The grouping epoch: bumped by every holder of an organisation's grouping lock on SQLite.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 19:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('grouping_epochs',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_grouping_epochs_org_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_id', name=op.f('pk_grouping_epochs'))
    )


def downgrade():
    op.drop_table('grouping_epochs')
