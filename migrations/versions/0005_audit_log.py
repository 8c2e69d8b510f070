"""audit log: staff look-ups and changes of citizen data

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 03:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'audit_entry',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('staff_user_id', sa.Integer(), nullable=False),
        sa.Column('staff_role', sa.String(length=20), nullable=False),
        sa.Column('municipality_id', sa.Integer(), nullable=False),
        sa.Column('unit', sa.String(length=120), nullable=True),
        sa.Column('action', sa.Enum('read', 'search', 'change', 'export', 'pairing',
                                    name='audit_action', native_enum=False,
                                    create_constraint=True, length=20), nullable=False),
        sa.Column('outcome', sa.Enum('allowed', 'denied', name='audit_outcome',
                                     native_enum=False, create_constraint=True, length=20),
                  nullable=False),
        sa.Column('citizen_id', sa.Integer(), nullable=True),
        sa.Column('search_term', sa.String(length=120), nullable=True),
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('purpose', sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entry')),
    )
    op.create_index('ix_audit_entry_at', 'audit_entry', ['at'])
    op.create_index('ix_audit_entry_citizen_at', 'audit_entry', ['citizen_id', 'at'])


def downgrade():
    op.drop_index('ix_audit_entry_citizen_at', table_name='audit_entry')
    op.drop_index('ix_audit_entry_at', table_name='audit_entry')
    op.drop_table('audit_entry')
