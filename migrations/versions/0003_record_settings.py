"""record settings: the gateway moves from municipality to record_settings

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 02:40:00

The record gateway is the record feature's setting, so it leaves the municipality table.
Municipalities with a gateway other than "none" keep it, in a row of their own.
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

GATEWAY = sa.Enum('http', 'export', 'none', name='record_gateway', native_enum=False,
                  create_constraint=True, length=20)


def upgrade():
    op.create_table(
        'record_settings',
        sa.Column('municipality_id', sa.Integer(), nullable=False),
        sa.Column('gateway', GATEWAY, nullable=False),
        sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'],
                                name=op.f('fk_record_settings_municipality_id_municipality'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('municipality_id', name=op.f('pk_record_settings')),
    )
    op.execute("INSERT INTO record_settings (municipality_id, gateway) "
               "SELECT id, record_gateway FROM municipality WHERE record_gateway <> 'none'")
    with op.batch_alter_table('municipality', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_municipality_record_gateway'), type_='check')
        batch_op.drop_column('record_gateway')


def downgrade():
    with op.batch_alter_table('municipality', schema=None) as batch_op:
        batch_op.add_column(sa.Column('record_gateway', GATEWAY, server_default='none',
                                      nullable=False))
    op.execute("UPDATE municipality SET record_gateway = (SELECT gateway FROM record_settings "
               "WHERE record_settings.municipality_id = municipality.id) "
               "WHERE id IN (SELECT municipality_id FROM record_settings)")
    op.drop_table('record_settings')
