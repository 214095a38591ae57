"""calls.search_text and the covering index of the list page's filter columns

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29

search_text (casefolded call_id, agent and customer names, file name) is filled for the stored
calls in batches, in Python, so that casefolding is the same as for new calls on both backends.
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

FILTER_COLUMNS = ['started_at', 'team', 'agent_id', 'call_type', 'language', 'direction', 'score', 'compliance_flag',
                  'open_disputes', 'failed_criteria', 'search_text']


def upgrade() -> None:
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_text', sa.String(length=500), nullable=True))
    bind = op.get_bind()
    calls = sa.table('calls', sa.column('id', sa.Integer), sa.column('call_id', sa.String),
                     sa.column('agent_name', sa.String), sa.column('customer_name', sa.String),
                     sa.column('file_name', sa.String), sa.column('search_text', sa.String))
    last = 0
    while True:
        rows = bind.execute(sa.select(calls.c.id, calls.c.call_id, calls.c.agent_name, calls.c.customer_name,
                                      calls.c.file_name).where(calls.c.id > last).order_by(calls.c.id)
                            .limit(5000)).all()
        if not rows:
            break
        bind.execute(calls.update().where(calls.c.id == sa.bindparam('pk')).values(search_text=sa.bindparam('st')),
                     [{'pk': r[0], 'st': ' '.join(p for p in r[1:] if p).casefold()[:500]} for r in rows])
        last = rows[-1][0]
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.create_index('ix_calls_filters', FILTER_COLUMNS, unique=False)


def downgrade() -> None:
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_index('ix_calls_filters')
        batch_op.drop_column('search_text')
