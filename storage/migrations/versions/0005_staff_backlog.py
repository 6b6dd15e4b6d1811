"""tickets waiting for their staff card while the staff chat is busy

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ticket") as batch:
        batch.add_column(
            sa.Column("staff_pending_since", storage.types.UtcDateTime(), nullable=True)
        )
        batch.add_column(sa.Column("staff_digested_at", storage.types.UtcDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ticket") as batch:
        batch.drop_column("staff_digested_at")
        batch.drop_column("staff_pending_since")
