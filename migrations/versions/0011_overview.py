"""the caseworker's citizen overview: the purpose given for it, once per citizen per day

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 07:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'overview_purpose',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('staff_user_id', sa.Integer(), nullable=False),
        sa.Column('citizen_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('purpose', sa.Enum('prepare_conversation', 'work_list_follow_up',
                                     'refused_entries', 'other', name='overview_purpose_kind',
                                     native_enum=False, create_constraint=True, length=20),
                  nullable=False),
        sa.Column('text', sa.String(length=120), nullable=True),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['staff_user_id'], ['user.id'],
                                name=op.f('fk_overview_purpose_staff_user_id_user'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['citizen_id'], ['user.id'],
                                name=op.f('fk_overview_purpose_citizen_id_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_overview_purpose')),
        sa.UniqueConstraint('staff_user_id', 'citizen_id', 'day',
                            name=op.f('uq_overview_purpose_staff_user_id_citizen_id_day')),
    )


def downgrade():
    op.drop_table('overview_purpose')
