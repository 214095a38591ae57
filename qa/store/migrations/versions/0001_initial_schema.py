"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

JSONDoc = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('username', sa.String(length=100), nullable=True),
    sa.Column('action', sa.String(length=100), nullable=False),
    sa.Column('call_id', sa.String(length=200), nullable=True),
    sa.Column('details', JSONDoc, nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_at', ['at'], unique=False)
        batch_op.create_index('ix_audit_call', ['call_id'], unique=False)

    op.create_table('calls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.String(length=200), nullable=False),
    sa.Column('source_kind', sa.String(length=16), nullable=False),
    sa.Column('audio_path', sa.Text(), nullable=True),
    sa.Column('audio_sha256', sa.String(length=64), nullable=False),
    sa.Column('file_name', sa.String(length=500), nullable=True),
    sa.Column('agent_id', sa.String(length=100), nullable=True),
    sa.Column('agent_name', sa.String(length=200), nullable=True),
    sa.Column('team', sa.String(length=200), nullable=True),
    sa.Column('customer_name', sa.String(length=200), nullable=True),
    sa.Column('call_type', sa.String(length=40), nullable=True),
    sa.Column('direction', sa.String(length=20), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('duration', sa.Float(), nullable=True),
    sa.Column('ingested_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('extra', JSONDoc, nullable=True),
    sa.Column('current_evaluation_id', sa.Integer(), nullable=True),
    sa.Column('rubric', sa.String(length=100), nullable=True),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('compliance_flag', sa.Boolean(), nullable=False),
    sa.Column('n_fail', sa.Integer(), nullable=False),
    sa.Column('open_disputes', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('audio_sha256'),
    sa.UniqueConstraint('call_id')
    )
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.create_index('ix_calls_agent_started', ['agent_id', 'started_at'], unique=False)
        batch_op.create_index('ix_calls_compliance_started', ['compliance_flag', 'started_at'], unique=False)
        batch_op.create_index('ix_calls_language_started', ['language', 'started_at'], unique=False)
        batch_op.create_index('ix_calls_score', ['score'], unique=False)
        batch_op.create_index('ix_calls_started_at', ['started_at'], unique=False)
        batch_op.create_index('ix_calls_team_started', ['team', 'started_at'], unique=False)
        batch_op.create_index('ix_calls_type_started', ['call_type', 'started_at'], unique=False)

    op.create_table('failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('file_name', sa.String(length=500), nullable=False),
    sa.Column('checksum', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('first_at', sa.DateTime(), nullable=False),
    sa.Column('last_at', sa.DateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('path')
    )
    op.create_table('rubric_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('version', sa.String(length=100), nullable=False),
    sa.Column('yaml_text', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.Column('published_by', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name', 'version', name='uq_rubric_versions_name_version')
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('password_hash', sa.String(length=300), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('agent_id', sa.String(length=100), nullable=True),
    sa.Column('display_name', sa.String(length=200), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username')
    )
    op.create_table('call_metrics',
    sa.Column('call_pk', sa.Integer(), nullable=False),
    sa.Column('data', JSONDoc, nullable=False),
    sa.Column('talk_ratio_agent', sa.Float(), nullable=True),
    sa.Column('silence_ratio', sa.Float(), nullable=True),
    sa.Column('overtalk_seconds', sa.Float(), nullable=True),
    sa.Column('longest_silence', sa.Float(), nullable=True),
    sa.Column('agent_wpm', sa.Float(), nullable=True),
    sa.Column('interruptions', sa.Float(), nullable=True),
    sa.Column('sentiment', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['call_pk'], ['calls.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('call_pk')
    )
    op.create_table('evaluations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_pk', sa.Integer(), nullable=False),
    sa.Column('rubric', sa.String(length=100), nullable=False),
    sa.Column('rubric_version', sa.String(length=100), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('auto_score', sa.Float(), nullable=True),
    sa.Column('compliance_flag', sa.Boolean(), nullable=False),
    sa.Column('flags', JSONDoc, nullable=True),
    sa.Column('extra', JSONDoc, nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('is_current', sa.Boolean(), nullable=False),
    sa.Column('agent_id', sa.String(length=100), nullable=True),
    sa.Column('team', sa.String(length=200), nullable=True),
    sa.Column('call_type', sa.String(length=40), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['call_pk'], ['calls.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('evaluations', schema=None) as batch_op:
        batch_op.create_index('ix_evaluations_agent_started', ['is_current', 'agent_id', 'started_at'], unique=False)
        batch_op.create_index('ix_evaluations_call_current', ['call_pk', 'is_current'], unique=False)
        batch_op.create_index('ix_evaluations_team_started', ['is_current', 'team', 'started_at'], unique=False)

    op.create_table('transcripts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_pk', sa.Integer(), nullable=False),
    sa.Column('document', JSONDoc, nullable=False),
    sa.Column('redacted', sa.Boolean(), nullable=False),
    sa.Column('redaction_spans', JSONDoc, nullable=True),
    sa.Column('engine', sa.String(length=100), nullable=True),
    sa.Column('model', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['call_pk'], ['calls.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('call_pk')
    )
    op.create_table('criterion_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('evaluation_id', sa.Integer(), nullable=False),
    sa.Column('call_pk', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('criterion_id', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=True),
    sa.Column('competence', sa.String(length=100), nullable=True),
    sa.Column('result', sa.String(length=8), nullable=False),
    sa.Column('auto_result', sa.String(length=8), nullable=False),
    sa.Column('overridden', sa.Boolean(), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.Column('critical', sa.Boolean(), nullable=False),
    sa.Column('evidence', JSONDoc, nullable=True),
    sa.Column('feedback', sa.Text(), nullable=True),
    sa.Column('confidence', sa.Float(), nullable=True),
    sa.Column('extra', JSONDoc, nullable=True),
    sa.Column('is_current', sa.Boolean(), nullable=False),
    sa.Column('agent_id', sa.String(length=100), nullable=True),
    sa.Column('team', sa.String(length=200), nullable=True),
    sa.Column('call_type', sa.String(length=40), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['call_pk'], ['calls.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['evaluation_id'], ['evaluations.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('criterion_results', schema=None) as batch_op:
        batch_op.create_index('ix_criteria_agent', ['is_current', 'agent_id', 'criterion_id', 'result'], unique=False)
        batch_op.create_index('ix_criteria_call', ['call_pk'], unique=False)
        batch_op.create_index('ix_criteria_evaluation', ['evaluation_id'], unique=False)
        batch_op.create_index('ix_criteria_team', ['is_current', 'started_at', 'team', 'criterion_id', 'result'], unique=False)

    op.create_table('disputes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_pk', sa.Integer(), nullable=False),
    sa.Column('evaluation_id', sa.Integer(), nullable=False),
    sa.Column('criterion_result_id', sa.Integer(), nullable=False),
    sa.Column('criterion_id', sa.String(length=100), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('raised_by', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('decided_by', sa.String(length=100), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decision_comment', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['call_pk'], ['calls.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['criterion_result_id'], ['criterion_results.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['evaluation_id'], ['evaluations.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('disputes', schema=None) as batch_op:
        batch_op.create_index('ix_disputes_call', ['call_pk'], unique=False)
        batch_op.create_index('ix_disputes_status', ['status', 'created_at'], unique=False)

    op.create_table('reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_pk', sa.Integer(), nullable=False),
    sa.Column('evaluation_id', sa.Integer(), nullable=False),
    sa.Column('criterion_result_id', sa.Integer(), nullable=False),
    sa.Column('criterion_id', sa.String(length=100), nullable=False),
    sa.Column('old_result', sa.String(length=8), nullable=False),
    sa.Column('new_result', sa.String(length=8), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('reviewer', sa.String(length=100), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['call_pk'], ['calls.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['criterion_result_id'], ['criterion_results.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['evaluation_id'], ['evaluations.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.create_index('ix_reviews_call', ['call_pk'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_index('ix_reviews_call')

    op.drop_table('reviews')
    with op.batch_alter_table('disputes', schema=None) as batch_op:
        batch_op.drop_index('ix_disputes_status')
        batch_op.drop_index('ix_disputes_call')

    op.drop_table('disputes')
    with op.batch_alter_table('criterion_results', schema=None) as batch_op:
        batch_op.drop_index('ix_criteria_team')
        batch_op.drop_index('ix_criteria_evaluation')
        batch_op.drop_index('ix_criteria_call')
        batch_op.drop_index('ix_criteria_agent')

    op.drop_table('criterion_results')
    op.drop_table('transcripts')
    with op.batch_alter_table('evaluations', schema=None) as batch_op:
        batch_op.drop_index('ix_evaluations_team_started')
        batch_op.drop_index('ix_evaluations_call_current')
        batch_op.drop_index('ix_evaluations_agent_started')

    op.drop_table('evaluations')
    op.drop_table('call_metrics')
    op.drop_table('users')
    op.drop_table('rubric_versions')
    op.drop_table('failures')
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_index('ix_calls_type_started')
        batch_op.drop_index('ix_calls_team_started')
        batch_op.drop_index('ix_calls_started_at')
        batch_op.drop_index('ix_calls_score')
        batch_op.drop_index('ix_calls_language_started')
        batch_op.drop_index('ix_calls_compliance_started')
        batch_op.drop_index('ix_calls_agent_started')

    op.drop_table('calls')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_call')
        batch_op.drop_index('ix_audit_at')

    op.drop_table('audit_log')

