"""Safety walks: the walks table, walk fields on reports, the walk categories.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 06:00:00.000000

"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
# The lead's 0010 lands at merge; the chain is fixed then.
down_revision = '0010'
branch_labels = None
depends_on = None

# The safety walk's categories (Boverket/Brå checklists), frozen here like 0001's taxonomy.
WALK_TAXONOMY = (
    ("vandring_belysning", "Belysning", "Lighting"),
    ("vandring_sikt", "Skymd sikt / vegetation", "Blocked view / vegetation"),
    ("vandring_klotter", "Klotter / skadegörelse", "Graffiti / vandalism"),
    ("vandring_skrap", "Nedskräpning", "Litter"),
    ("vandring_trafik", "Trafik", "Traffic"),
    ("vandring_tillganglighet", "Tillgänglighet", "Accessibility"),
    ("vandring_ode", "Öde plats", "Deserted place"),
    ("vandring_ovrigt", "Övrigt (vandring)", "Other (walk)"),
)


def upgrade():
    op.create_table('walks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=True),
    sa.Column('walk_date', sa.Date(), nullable=False),
    sa.Column('dark', sa.Boolean(), nullable=False),
    sa.Column('route', sa.JSON(), nullable=True),
    sa.Column('stops', sa.JSON(), nullable=False),
    sa.Column('participants', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['areas.id'], name=op.f('fk_walks_area_id_areas'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_walks_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_walks'))
    )
    with op.batch_alter_table('walks', schema=None) as batch_op:
        batch_op.create_index('ix_walks_org_date', ['org_id', 'walk_date'], unique=False)
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('walk_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('walk_stop', sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column('feeling', sa.String(length=10), nullable=True))
        batch_op.create_index(batch_op.f('ix_reports_walk_id'), ['walk_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_reports_walk_id_walks'), 'walks', ['walk_id'], ['id'], ondelete='SET NULL')
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.add_column(sa.Column('walk', sa.Boolean(), server_default=sa.false(), nullable=False))
    _seed()


def _seed():
    """Add the walk categories after every existing one."""
    categories = sa.table(
        "categories",
        sa.column("code", sa.String),
        sa.column("label_sv", sa.String),
        sa.column("label_en", sa.String),
        sa.column("urgent", sa.Boolean),
        sa.column("walk", sa.Boolean),
        sa.column("sort_order", sa.Integer),
        sa.column("active", sa.Boolean),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        categories,
        [
            {
                "code": code,
                "label_sv": sv,
                "label_en": en,
                "urgent": False,
                "walk": True,
                "sort_order": 500 + (i + 1) * 10,
                "active": True,
                "updated_at": now,
            }
            for i, (code, sv, en) in enumerate(WALK_TAXONOMY)
        ],
    )


def downgrade():
    codes = [code for code, _, _ in WALK_TAXONOMY]
    op.execute(sa.text("UPDATE reports SET walk_id = NULL"))
    categories = sa.table("categories", sa.column("code", sa.String))
    op.execute(categories.delete().where(categories.c.code.in_(codes)))
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.drop_column('walk')
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_reports_walk_id_walks'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_reports_walk_id'))
        batch_op.drop_column('feeling')
        batch_op.drop_column('walk_stop')
        batch_op.drop_column('walk_id')
    with op.batch_alter_table('walks', schema=None) as batch_op:
        batch_op.drop_index('ix_walks_org_date')
    op.drop_table('walks')
