"""staff second factor: passkeys, TOTP, recovery codes, and the session's second factor

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 10:00:00

A staff session grants no staff permission until ``login_session.second_factor_at`` is set.
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('second_factor_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('second_factor_failures', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('webauthn_challenge', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('webauthn_challenge_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.alter_column('second_factor_failures', server_default=None)

    op.create_table(
        'staff_passkey',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('credential_id', sa.String(length=1400), nullable=False),
        sa.Column('public_key', sa.LargeBinary(), nullable=False),
        sa.Column('sign_count', sa.BigInteger(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_used_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_staff_passkey_user_id_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_passkey')),
        sa.UniqueConstraint('credential_id', name=op.f('uq_staff_passkey_credential_id')),
    )
    with op.batch_alter_table('staff_passkey', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_passkey_user_id'), ['user_id'], unique=False)

    op.create_table(
        'staff_totp',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('secret_encrypted', sa.String(length=255), nullable=False),
        sa.Column('confirmed_at', sa.DateTime(), nullable=True),
        sa.Column('last_step', sa.BigInteger(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_staff_totp_user_id_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_staff_totp')),
    )

    op.create_table(
        'staff_recovery_code',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'],
                                name=op.f('fk_staff_recovery_code_user_id_user'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_recovery_code')),
    )
    with op.batch_alter_table('staff_recovery_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_recovery_code_user_id'), ['user_id'], unique=False)


def downgrade():
    op.drop_table('staff_recovery_code')
    op.drop_table('staff_totp')
    op.drop_table('staff_passkey')
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.drop_column('webauthn_challenge_at')
        batch_op.drop_column('webauthn_challenge')
        batch_op.drop_column('second_factor_failures')
        batch_op.drop_column('second_factor_at')
