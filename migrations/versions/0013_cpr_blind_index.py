"""CPR blind index: a keyed hash of the CPR number beside the encrypted value, unique

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 07:00:00

Lets a login with MitID find the citizen whose CPR number the broker vouched for without
decrypting every profile (citizens/cpr.py ``blind_index``). Existing numbers are decrypted
with JOBLOG_CPR_KEY and indexed with JOBLOG_CPR_INDEX_KEY in batches; a number that cannot
be decrypted (another key) or is on file twice is left without an index and counted in the
migration's log (never the number). ``flask citizens cpr`` puts such a number on file again.
"""
import logging

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

BATCH = 500
log = logging.getLogger("alembic.runtime.migration")


def upgrade():
    with op.batch_alter_table('citizen_profile', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cpr_index', sa.String(length=64), nullable=True))
    _fill()
    with op.batch_alter_table('citizen_profile', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_citizen_profile_cpr_index'), ['cpr_index'])


def _fill():
    from joblog_app.citizens import cpr

    conn = op.get_bind()
    profile = sa.table('citizen_profile', sa.column('user_id', sa.Integer),
                       sa.column('cpr_encrypted', sa.String), sa.column('cpr_index', sa.String))
    seen: set[str] = set()
    skipped = 0
    last = 0
    while True:
        rows = conn.execute(
            sa.select(profile.c.user_id, profile.c.cpr_encrypted)
            .where(profile.c.cpr_encrypted.is_not(None), profile.c.user_id > last)
            .order_by(profile.c.user_id).limit(BATCH)).all()
        if not rows:
            break
        for user_id, encrypted in rows:
            last = user_id
            try:
                index = cpr.blind_index(cpr.decrypt(encrypted))
            except cpr.CprError:
                skipped += 1
                continue
            if index in seen:
                skipped += 1
                continue
            seen.add(index)
            conn.execute(profile.update().where(profile.c.user_id == user_id)
                         .values(cpr_index=index))
    if skipped:
        log.warning("CPR blind index: %s profiles left without an index (number not readable "
                    "with JOBLOG_CPR_KEY, or on file twice)", skipped)


def downgrade():
    with op.batch_alter_table('citizen_profile', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_citizen_profile_cpr_index'), type_='unique')
        batch_op.drop_column('cpr_index')
