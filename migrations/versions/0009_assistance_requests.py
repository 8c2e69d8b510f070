"""assistance requests: the recorded basis for assisted registration

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 10:00:00

The lead re-chains this after 0008 at merge.
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'assistance_request',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('citizen_id', sa.Integer(), nullable=False),
        sa.Column('municipality_id', sa.Integer(), nullable=False),
        sa.Column('basis', sa.Enum('il_26a_6', 'fvl_8', name='assistance_basis',
                                   native_enum=False, create_constraint=True, length=20),
                  nullable=False),
        sa.Column('representative', sa.String(length=120), nullable=True),
        sa.Column('recorded_by_id', sa.Integer(), nullable=False),
        sa.Column('recorded_by_role', sa.String(length=20), nullable=False),
        sa.Column('recorded_at', sa.DateTime(), nullable=False),
        sa.Column('valid_from', sa.Date(), nullable=False),
        sa.Column('valid_until', sa.Date(), nullable=False),
        sa.Column('renews_id', sa.Integer(), nullable=True),
        sa.Column('withdrawn_at', sa.DateTime(), nullable=True),
        sa.Column('withdrawn_by_id', sa.Integer(), nullable=True),
        sa.Column('withdrawn_by_role', sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(['citizen_id'], ['user.id'],
                                name=op.f('fk_assistance_request_citizen_id_user'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'],
                                name=op.f('fk_assistance_request_municipality_id_municipality')),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'],
                                name=op.f('fk_assistance_request_recorded_by_id_user')),
        sa.ForeignKeyConstraint(['renews_id'], ['assistance_request.id'],
                                name=op.f('fk_assistance_request_renews_id_assistance_request'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['withdrawn_by_id'], ['user.id'],
                                name=op.f('fk_assistance_request_withdrawn_by_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_assistance_request')),
    )
    op.create_index('ix_assistance_request_citizen', 'assistance_request',
                    ['citizen_id', 'valid_until'])


def downgrade():
    op.drop_index('ix_assistance_request_citizen', table_name='assistance_request')
    op.drop_table('assistance_request')
