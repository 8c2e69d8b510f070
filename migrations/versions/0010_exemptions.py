"""exemptions from registering (LAS § 75, stk. 5; integrationsloven § 26 a, stk. 4)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 09:00:00

Only the legal basis and the dates are stored, never a diagnosis.
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'exemption',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('citizen_id', sa.Integer(), nullable=False),
        sa.Column('municipality_id', sa.Integer(), nullable=False),
        sa.Column('legal_basis', sa.Enum('las_75_5', 'integration_26a_4', name='legal_basis',
                                         native_enum=False, create_constraint=True,
                                         length=20), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('ends_on', sa.Date(), nullable=False),
        sa.Column('note', sa.String(length=300), nullable=True),
        sa.Column('granted_by_id', sa.Integer(), nullable=False),
        sa.Column('granted_at', sa.DateTime(), nullable=False),
        sa.Column('ended_on', sa.Date(), nullable=True),
        sa.Column('ended_early_at', sa.DateTime(), nullable=True),
        sa.Column('ended_early_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['citizen_id'], ['user.id'],
                                name=op.f('fk_exemption_citizen_id_user'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'],
                                name=op.f('fk_exemption_municipality_id_municipality')),
        sa.ForeignKeyConstraint(['granted_by_id'], ['user.id'],
                                name=op.f('fk_exemption_granted_by_id_user')),
        sa.ForeignKeyConstraint(['ended_early_by_id'], ['user.id'],
                                name=op.f('fk_exemption_ended_early_by_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_exemption')),
    )
    op.create_index('ix_exemption_citizen_starts', 'exemption', ['citizen_id', 'starts_on'])
    op.create_index('ix_exemption_municipality_ends', 'exemption', ['municipality_id', 'ends_on'])


def downgrade():
    op.drop_index('ix_exemption_municipality_ends', table_name='exemption')
    op.drop_index('ix_exemption_citizen_starts', table_name='exemption')
    op.drop_table('exemption')
