"""job cafés: cafés, sessions, check-ins, the visit checklist, phone pairing codes

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-09 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'cafe',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('municipality_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('place', sa.String(length=200), nullable=False),
        sa.Column('weekday', sa.SmallInteger(), nullable=False),
        sa.Column('opens_at', sa.Time(), nullable=False),
        sa.Column('closes_at', sa.Time(), nullable=False),
        sa.Column('languages', sa.String(length=20), nullable=False),
        sa.Column('is_active', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'],
                                name=op.f('fk_cafe_municipality_id_municipality')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_cafe')),
    )
    with op.batch_alter_table('cafe', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cafe_municipality_id'), ['municipality_id'], unique=False)

    op.create_table(
        'cafe_session',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cafe_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('opened_by_id', sa.Integer(), nullable=False),
        sa.Column('opened_at', sa.DateTime(), nullable=False),
        sa.Column('closed_at', sa.DateTime(), nullable=True),
        sa.Column('checkin_salt', sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(['cafe_id'], ['cafe.id'], name=op.f('fk_cafe_session_cafe_id_cafe'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['opened_by_id'], ['user.id'],
                                name=op.f('fk_cafe_session_opened_by_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_cafe_session')),
    )
    with op.batch_alter_table('cafe_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cafe_session_cafe_id'), ['cafe_id'], unique=False)

    op.create_table(
        'check_in',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('citizen_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['by_id'], ['user.id'], name=op.f('fk_check_in_by_id_user')),
        sa.ForeignKeyConstraint(['citizen_id'], ['user.id'], name=op.f('fk_check_in_citizen_id_user'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['session_id'], ['cafe_session.id'],
                                name=op.f('fk_check_in_session_id_cafe_session'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_check_in')),
        sa.UniqueConstraint('session_id', 'citizen_id', name=op.f('uq_check_in_session_id_citizen_id')),
    )
    with op.batch_alter_table('check_in', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_check_in_citizen_id'), ['citizen_id'], unique=False)

    op.create_table(
        'checklist_item',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('check_in_id', sa.Integer(), nullable=False),
        sa.Column('suggestion', sa.String(length=20), nullable=True),
        sa.Column('text', sa.String(length=80), nullable=True),
        sa.Column('done_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['check_in_id'], ['check_in.id'],
                                name=op.f('fk_checklist_item_check_in_id_check_in'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_checklist_item')),
    )
    with op.batch_alter_table('checklist_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checklist_item_check_in_id'), ['check_in_id'], unique=False)

    op.create_table(
        'pairing_code',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('citizen_id', sa.Integer(), nullable=False),
        sa.Column('helper_id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['citizen_id'], ['user.id'],
                                name=op.f('fk_pairing_code_citizen_id_user'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['helper_id'], ['user.id'],
                                name=op.f('fk_pairing_code_helper_id_user'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['session_id'], ['cafe_session.id'],
                                name=op.f('fk_pairing_code_session_id_cafe_session'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pairing_code')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_pairing_code_token_hash')),
    )
    with op.batch_alter_table('pairing_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pairing_code_citizen_id'), ['citizen_id'], unique=False)


def downgrade():
    op.drop_table('pairing_code')
    op.drop_table('checklist_item')
    op.drop_table('check_in')
    op.drop_table('cafe_session')
    op.drop_table('cafe')
