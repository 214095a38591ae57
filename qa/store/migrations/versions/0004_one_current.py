"""one current evaluation per call, one open dispute per operator, carried-over reviews

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

Partial unique indexes (``WHERE is_current`` / ``WHERE status = 'open'``, on SQLite and
PostgreSQL alike): one current evaluation per call, one current result per call and criterion,
one open dispute per (call, criterion, operator). reviews gets ``dispute_id``,
``carried_from_id`` and ``carried_from_version`` (reviews carried over to a new evaluation).

A store written by concurrent writers before this revision may break those rules; they are
repaired first, so that the indexes can be built:
- several current evaluations of a call: the newest stays current, the others become history
  (their criterion rows too), the call's copies follow the one kept and the rollups are rebuilt;
- several open disputes of one operator on one criterion of a call: the oldest stays open, the
  others are closed as ``rejected`` with the comment "duplicate of dispute N (migration 0004)".
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def _repair_current(bind) -> bool:
    """Leave one current evaluation per call (the newest); True when something changed."""
    ev = sa.table('evaluations', sa.column('id', sa.Integer), sa.column('call_pk', sa.Integer),
                  sa.column('is_current', sa.Boolean), sa.column('score', sa.Float),
                  sa.column('compliance_flag', sa.Boolean), sa.column('rubric', sa.String))
    cr = sa.table('criterion_results', sa.column('evaluation_id', sa.Integer), sa.column('call_pk', sa.Integer),
                  sa.column('is_current', sa.Boolean), sa.column('result', sa.String))
    calls = sa.table('calls', sa.column('id', sa.Integer), sa.column('current_evaluation_id', sa.Integer),
                     sa.column('score', sa.Float), sa.column('compliance_flag', sa.Boolean),
                     sa.column('rubric', sa.String), sa.column('n_fail', sa.Integer))
    dup_calls = [r[0] for r in bind.execute(
        sa.select(ev.c.call_pk).where(ev.c.is_current.is_(True)).group_by(ev.c.call_pk)
        .having(sa.func.count() > 1))]
    stray = bind.execute(sa.select(sa.func.count()).select_from(cr).join(ev, ev.c.id == cr.c.evaluation_id)
                         .where(cr.c.is_current.is_(True), ev.c.is_current.is_(False))).scalar()
    if not dup_calls and not stray:
        return False
    for call_pk in dup_calls:
        keep = bind.execute(sa.select(sa.func.max(ev.c.id)).where(ev.c.call_pk == call_pk,
                                                                ev.c.is_current.is_(True))).scalar()
        bind.execute(ev.update().where(ev.c.call_pk == call_pk, ev.c.id != keep).values(is_current=False))
        kept = bind.execute(sa.select(ev.c.score, ev.c.compliance_flag, ev.c.rubric).where(ev.c.id == keep)).one()
        n_fail = bind.execute(sa.select(sa.func.count()).select_from(cr).where(
            cr.c.evaluation_id == keep, cr.c.result == 'fail')).scalar()
        bind.execute(calls.update().where(calls.c.id == call_pk).values(
            current_evaluation_id=keep, score=kept.score, compliance_flag=kept.compliance_flag, rubric=kept.rubric,
            n_fail=n_fail))
    current_ids = sa.select(ev.c.id).where(ev.c.is_current.is_(True))
    bind.execute(cr.update().where(cr.c.is_current.is_(True), cr.c.evaluation_id.not_in(current_ids))
                 .values(is_current=False))
    return True


def _repair_disputes(bind) -> None:
    """Close duplicate open disputes (the oldest of each operator/criterion/call stays open)."""
    d = sa.table('disputes', sa.column('id', sa.Integer), sa.column('call_pk', sa.Integer),
                 sa.column('criterion_id', sa.String), sa.column('raised_by', sa.String),
                 sa.column('status', sa.String), sa.column('decided_at', sa.DateTime),
                 sa.column('decision_comment', sa.Text))
    calls = sa.table('calls', sa.column('id', sa.Integer), sa.column('open_disputes', sa.Integer))
    groups = bind.execute(sa.select(d.c.call_pk, d.c.criterion_id, d.c.raised_by, sa.func.min(d.c.id))
                          .where(d.c.status == 'open').group_by(d.c.call_pk, d.c.criterion_id, d.c.raised_by)
                          .having(sa.func.count() > 1)).all()
    if not groups:
        return
    from datetime import datetime, timezone

    now = datetime.now(timezone.utc).replace(tzinfo=None)
    for call_pk, criterion_id, raised_by, first in groups:
        bind.execute(d.update().where(d.c.call_pk == call_pk, d.c.criterion_id == criterion_id,
                                      d.c.raised_by == raised_by, d.c.status == 'open', d.c.id != first)
                     .values(status='rejected', decided_at=now,
                             decision_comment=f'duplicate of dispute {first} (migration 0004)'))
    n_open = (sa.select(sa.func.count()).select_from(d).where(d.c.call_pk == calls.c.id, d.c.status == 'open')
              .scalar_subquery())
    bind.execute(calls.update().where(calls.c.id.in_({g[0] for g in groups})).values(open_disputes=n_open))


def upgrade() -> None:
    bind = op.get_bind()
    if _repair_current(bind):
        from sqlalchemy.orm import Session

        from qa.store.rollups import rebuild_rollups  # the rollups follow the current rows again

        rebuild_rollups(Session(bind=bind))
    _repair_disputes(bind)
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dispute_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('carried_from_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('carried_from_version', sa.String(length=100), nullable=True))
        batch_op.create_index('ix_reviews_evaluation', ['evaluation_id'], unique=False)
    op.create_index('uq_evaluations_current', 'evaluations', ['call_pk'], unique=True,
                    sqlite_where=sa.text('is_current'), postgresql_where=sa.text('is_current'))
    op.create_index('uq_criteria_current', 'criterion_results', ['call_pk', 'criterion_id'], unique=True,
                    sqlite_where=sa.text('is_current'), postgresql_where=sa.text('is_current'))
    op.create_index('uq_disputes_open', 'disputes', ['call_pk', 'criterion_id', 'raised_by'], unique=True,
                    sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))


def downgrade() -> None:
    op.drop_index('uq_disputes_open', table_name='disputes')
    op.drop_index('uq_criteria_current', table_name='criterion_results')
    op.drop_index('uq_evaluations_current', table_name='evaluations')
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_index('ix_reviews_evaluation')
        batch_op.drop_column('carried_from_version')
        batch_op.drop_column('carried_from_id')
        batch_op.drop_column('dispute_id')
