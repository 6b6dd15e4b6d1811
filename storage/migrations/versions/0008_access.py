"""staff membership and privacy retention; managers' and staff's own language

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "person_setting",
        sa.Column("telegram_user_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("updated_at", storage.types.UtcDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("person_setting")
