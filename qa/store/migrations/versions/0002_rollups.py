"""rollups, failed_criteria, redacted audio

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29

Adds the pass-rate rollups (criterion_daily, criterion_monthly) and fills them from the
stored current criterion results; calls.failed_criteria (filled the same way) and
calls.redacted_audio_path.
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('criterion_daily',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('team', sa.String(length=200), nullable=False),
    sa.Column('agent_id', sa.String(length=100), nullable=False),
    sa.Column('call_type', sa.String(length=40), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('criterion_id', sa.String(length=100), nullable=False),
    sa.Column('passed', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('na', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'team', 'agent_id', 'call_type', 'language', 'criterion_id'),
    sqlite_with_rowid=False
    )
    op.create_table('criterion_monthly',
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('team', sa.String(length=200), nullable=False),
    sa.Column('agent_id', sa.String(length=100), nullable=False),
    sa.Column('call_type', sa.String(length=40), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('criterion_id', sa.String(length=100), nullable=False),
    sa.Column('passed', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('na', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('month', 'team', 'agent_id', 'call_type', 'language', 'criterion_id'),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('redacted_audio_path', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('failed_criteria', sa.Text(), nullable=True))
    backfill(op.get_bind())


DIMS = "team, agent_id, call_type, language, criterion_id"
COUNTS = ("SUM(CASE WHEN result = 'pass' THEN 1 ELSE 0 END), SUM(CASE WHEN result = 'fail' THEN 1 ELSE 0 END), "
          "SUM(CASE WHEN result = 'na' THEN 1 ELSE 0 END)")
SOURCE = ("(SELECT {period} AS period, COALESCE(team, '') AS team, COALESCE(agent_id, '') AS agent_id, "
          "COALESCE(call_type, '') AS call_type, COALESCE(language, '') AS language, criterion_id, result "
          "FROM criterion_results WHERE is_current = {true}) AS cr")


def backfill(bind) -> None:
    """Rollups and failed_criteria from what is stored (the same SQL the repository's
    ``rebuild_rollups`` runs)."""
    pg = bind.dialect.name == "postgresql"
    true = "true" if pg else "1"
    if pg:
        day = "COALESCE(CAST(started_at AS DATE), DATE '1900-01-01')"
        month = "COALESCE(CAST(date_trunc('month', started_at) AS DATE), DATE '1900-01-01')"
        agg = "string_agg(criterion_id, ',' ORDER BY position)"
    else:
        day = "COALESCE(date(started_at), '1900-01-01')"
        month = "COALESCE(strftime('%Y-%m-01', started_at), '1900-01-01')"
        agg = "group_concat(criterion_id, ',')"
    for table, col, period in (("criterion_daily", "day", day), ("criterion_monthly", "month", month)):
        bind.execute(sa.text(f"DELETE FROM {table}"))
        bind.execute(sa.text(
            f"INSERT INTO {table} ({col}, {DIMS}, passed, failed, na) "
            f"SELECT period, {DIMS}, {COUNTS} FROM {SOURCE.format(period=period, true=true)} "
            f"GROUP BY period, {DIMS}"))
    bind.execute(sa.text(
        f"UPDATE calls SET failed_criteria = (SELECT ',' || {agg} || ',' FROM criterion_results cr "
        f"WHERE cr.call_pk = calls.id AND cr.is_current = {true} AND cr.result = 'fail')"))



def downgrade() -> None:
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_column('failed_criteria')
        batch_op.drop_column('redacted_audio_path')

    op.drop_table('criterion_monthly')
    op.drop_table('criterion_daily')
