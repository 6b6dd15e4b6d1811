"""one feedback row per Telegram message, so an update processed again finds its feedback

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 15:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_feedback_chat_message", table_name="feedback")
    op.create_index("ix_feedback_chat_message", "feedback", ["chat_id", "message_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_feedback_chat_message", table_name="feedback")
    op.create_index("ix_feedback_chat_message", "feedback", ["chat_id", "message_id"])
