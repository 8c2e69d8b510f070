"""work-list extras: the caseworker's case per citizen (assignment, note, follow-up date,
interpreter), saved filters, exemption reminders sent; indexes on the job log for the
caseworker's statements (bench/staff_scale.py)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 07:00:00

Another branch may add 0011; the lead re-chains this after it at merge.
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'case_file',
        sa.Column('citizen_id', sa.Integer(), nullable=False),
        sa.Column('municipality_id', sa.Integer(), nullable=False),
        sa.Column('assigned_to_id', sa.Integer(), nullable=True),
        sa.Column('needs_interpreter', sa.Boolean(), nullable=False),
        sa.Column('note', sa.String(length=300), nullable=True),
        sa.Column('follow_up_on', sa.Date(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['citizen_id'], ['user.id'],
                                name=op.f('fk_case_file_citizen_id_user'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'],
                                name=op.f('fk_case_file_municipality_id_municipality')),
        sa.ForeignKeyConstraint(['assigned_to_id'], ['user.id'],
                                name=op.f('fk_case_file_assigned_to_id_user'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'],
                                name=op.f('fk_case_file_updated_by_id_user'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('citizen_id', name=op.f('pk_case_file')),
    )
    op.create_index('ix_case_file_assigned', 'case_file', ['assigned_to_id'])
    op.create_index('ix_case_file_municipality_follow_up', 'case_file',
                    ['municipality_id', 'follow_up_on'])
    op.create_table(
        'saved_filter',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('query', sa.String(length=300), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['owner_id'], ['user.id'],
                                name=op.f('fk_saved_filter_owner_id_user'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_filter')),
        sa.UniqueConstraint('owner_id', 'name', name=op.f('uq_saved_filter_owner_id_name')),
    )
    op.create_table(
        'exemption_reminder',
        sa.Column('exemption_id', sa.Integer(), nullable=False),
        sa.Column('caseworker_id', sa.Integer(), nullable=True),
        sa.Column('sent_at', sa.DateTime(), nullable=False),
        sa.Column('by_email', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['exemption_id'], ['exemption.id'],
                                name=op.f('fk_exemption_reminder_exemption_id_exemption'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['caseworker_id'], ['user.id'],
                                name=op.f('fk_exemption_reminder_caseworker_id_user'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('exemption_id', name=op.f('pk_exemption_reminder')),
    )


    # The caseworker's statements on the job log (bench/staff_scale.py measures them).
    job_search = sa.text("kind = 'application' AND deleted_at IS NULL")
    op.create_index('ix_activity_job_search', 'activity', ['citizen_id', 'occurred_on'],
                    postgresql_where=job_search, sqlite_where=job_search)
    op.create_index('ix_activity_citizen_created', 'activity', ['citizen_id', 'created_at'])
    open_follow_up = sa.text("follow_up_on IS NOT NULL AND followed_up_at IS NULL AND "
                             "deleted_at IS NULL AND converted_to_id IS NULL")
    op.create_index('ix_activity_open_follow_up', 'activity', ['citizen_id', 'follow_up_on'],
                    postgresql_where=open_follow_up, sqlite_where=open_follow_up)
    refused = sa.text("record_state = 'failed' AND deleted_at IS NULL")
    op.create_index('ix_activity_refused', 'activity', ['citizen_id'],
                    postgresql_where=refused, sqlite_where=refused)


def downgrade():
    for name in ('ix_activity_refused', 'ix_activity_open_follow_up',
                 'ix_activity_citizen_created', 'ix_activity_job_search'):
        op.drop_index(name, table_name='activity')
    op.drop_table('exemption_reminder')
    op.drop_table('saved_filter')
    op.drop_index('ix_case_file_municipality_follow_up', table_name='case_file')
    op.drop_index('ix_case_file_assigned', table_name='case_file')
    op.drop_table('case_file')
