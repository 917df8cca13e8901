"""The review store: letters, their codes, queries and the audit trail.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "letters",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("batch", sa.String(200), nullable=False, index=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("record", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reviewer", sa.String(100)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "codes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("letter_id", sa.String(200), sa.ForeignKey("letters.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("system", sa.String(20), nullable=False),
        sa.Column("code", sa.String(20), nullable=False),
        sa.Column("suggested_code", sa.String(20)),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("origin", sa.String(20), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("score", sa.Float),
        sa.Column("rules", sa.Text, nullable=False),
    )
    op.create_table(
        "queries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("letter_id", sa.String(200), sa.ForeignKey("letters.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("rule", sa.String(40), nullable=False),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("letter_id", sa.String(200), sa.ForeignKey("letters.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("user", sa.String(100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("code", sa.String(20)),
        sa.Column("before", sa.Text),
        sa.Column("after", sa.Text),
    )


def downgrade() -> None:
    for table in ("events", "queries", "codes", "letters"):
        op.drop_table(table)
