"""login codes bound to a browser session, device budget, code outbox, failed guesses

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('login_code', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('device_id', sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_login_code_device_id'), ['device_id'], unique=False)

    op.create_table('login_code_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('login_code_id', sa.Integer(), nullable=False),
    sa.Column('sealed_code', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['login_code_id'], ['login_code.id'], name=op.f('fk_login_code_outbox_login_code_id_login_code'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_code_outbox')),
    sa.UniqueConstraint('login_code_id', name=op.f('uq_login_code_outbox_login_code_id'))
    )
    with op.batch_alter_table('login_code_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_code_outbox_next_attempt_at'), ['next_attempt_at'], unique=False)

    op.create_table('login_failure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=False),
    sa.Column('identifier', sa.String(length=254), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failure'))
    )
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_failure_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_failure_ip'), ['ip'], unique=False)


def downgrade():
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_failure_ip'))
        batch_op.drop_index(batch_op.f('ix_login_failure_created_at'))
    op.drop_table('login_failure')
    with op.batch_alter_table('login_code_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_code_outbox_next_attempt_at'))
    op.drop_table('login_code_outbox')
    with op.batch_alter_table('login_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_code_device_id'))
        batch_op.drop_column('device_id')
        batch_op.drop_column('session_hash')
