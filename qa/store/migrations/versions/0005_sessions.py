"""Sign-in sessions, login throttling and the demo-account mark

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06

- ``sessions``: one row per signed-in browser (SHA-256 of the cookie's random session id, user,
  created / last seen / absolute expiry, revocation time and reason, client address and agent);
- ``login_throttle``: consecutive failed sign-ins per username and per client address, the lock
  they caused and the number of locks in a row (growing back-off);
- ``users.is_demo``: accounts made by ``qa demo``. Stores built before this revision are
  backfilled from the audit log: ``qa demo`` created its accounts as ``created_by="demo"``, i.e.
  ``user_create`` entries whose username is ``demo``.
"""
import json

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_demo', sa.Boolean(), server_default=sa.false(), nullable=False))

    op.create_table('sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_reason', sa.String(length=40), nullable=True),
    sa.Column('client_ip', sa.String(length=64), nullable=True),
    sa.Column('user_agent', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.create_index('ix_sessions_user', ['user_id'], unique=False)

    op.create_table('login_throttle',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('lockouts', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', sa.DateTime(), nullable=True),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('kind', 'key', name='uq_login_throttle_kind_key')
    )

    # backfill the demo mark of accounts `qa demo` made before this revision
    bind = op.get_bind()
    audit = sa.table('audit_log', sa.column('action', sa.String), sa.column('username', sa.String),
                     sa.column('details', sa.JSON))
    users = sa.table('users', sa.column('username', sa.String), sa.column('is_demo', sa.Boolean))
    names = set()
    for (details,) in bind.execute(sa.select(audit.c.details).where(audit.c.action == 'user_create',
                                                                     audit.c.username == 'demo')):
        if isinstance(details, str):
            details = json.loads(details)
        if isinstance(details, dict) and details.get('user'):
            names.add(details['user'])
    if names:
        bind.execute(users.update().where(users.c.username.in_(sorted(names))).values(is_demo=True))


def downgrade() -> None:
    op.drop_table('login_throttle')
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_sessions_user')
    op.drop_table('sessions')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('is_demo')
